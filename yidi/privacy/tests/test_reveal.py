"""Revealing one personal value with a reason: who may, while when, what is audited, how often.

Every refusal answers 404 (whatever the cause, so nothing is learnt about the matter), reveals nothing, and
writes one audit row with outcome "denied" and its cause.
"""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from yidi.audit.models import AuditEvent
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case
from yidi.privacy.tests.conftest import party_id

PHONE = "13805751234"
ID_NUMBER = "330681198003150017"
REASON = "电话回访核实调解协议履行情况"


def reveal_url(case, field="phone", role="applicant"):
    return reverse("privacy_reveal", args=[case.code, party_id(case, role), field])


def post_reveal(client, user, case, *, field="phone", reason=REASON, htmx=False, party=None):
    client.force_login(user)
    url = reveal_url(case, field) if party is None else reverse("privacy_reveal", args=[case.code, party, field])
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, {"reason": reason}, headers=headers)


def reveal_rows(outcome=None):
    rows = AuditEvent.objects.filter(action="privacy.reveal")
    return list(rows.filter(outcome=outcome) if outcome else rows)


@pytest.mark.parametrize(
    ("persona", "status", "denial"),
    [
        ("registrar", 200, None),  # the centre's window
        ("dispatcher", 200, None),
        ("leader", 200, None),
        ("handler", 404, "not_assigned"),  # reads the matter (its township) but its unit is not assigned
        ("mediator", 404, "not_assigned"),  # the 枫源村 committee reads it, not assigned
        ("supervisor", 404, "role"),
        ("grid_worker", 404, "role"),
        ("outsider", 404, "not_found"),  # another township: cannot read the matter at all
        ("labour_handler", 404, "not_found"),  # a department not responsible for neighbour disputes
        ("admin", 404, "not_found"),
        ("auditor", 404, "not_found"),
        ("citizen", 404, "not_found"),
    ],
)
def test_who_may_reveal_a_phone_on_an_unassigned_matter(request, client, case, persona, status, denial):
    user = request.getfixturevalue(persona)

    response = post_reveal(client, user, case)

    assert response.status_code == status
    assert (PHONE in response.content.decode()) is (status == 200)
    rows = reveal_rows()
    assert [(row.actor_username, row.outcome, row.data.get("denial")) for row in rows] == [
        (user.username, "success" if status == 200 else "denied", denial)
    ]


def test_a_handler_reveals_only_while_their_unit_is_assigned_and_loses_it_on_return(
    client, assigned_case, handler
):
    assert post_reveal(client, handler, assigned_case).status_code == 200

    case_actions.do_return_case(assigned_case.code, actor=handler, reason="不属于本平台职责，请重新交办")

    assert client.get(reverse("case_detail", args=[assigned_case.code])).status_code == 200  # still reads it
    response = post_reveal(client, handler, assigned_case)
    assert response.status_code == 404
    assert PHONE not in response.content.decode()
    assert [(row.outcome, row.data.get("denial")) for row in reveal_rows()] == [
        ("success", None), ("denied", "not_assigned")
    ]


def test_a_mediator_gains_reveal_when_the_committee_is_assigned_and_loses_it_when_the_matter_closes(
    client, case, dispatcher, mediator
):
    assert post_reveal(client, mediator, case).status_code == 404
    case_actions.do_accept_case(case.code, actor=dispatcher)
    case_actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fy-committee", override_reason="就地调解")
    assert post_reveal(client, mediator, case).status_code == 200

    case_actions.do_sign_case(case.code, actor=mediator)
    case_actions.do_start_handling(case.code, actor=mediator, mode="mediation")
    case_actions.do_conclude_case(case.code, actor=mediator, outcome="written_agreement")
    case_actions.do_close_case(case.code, actor=dispatcher)

    assert post_reveal(client, mediator, case).status_code == 404


def test_the_audit_row_says_who_with_which_role_and_unit_saw_which_field_of_whom_and_why(client, case, dispatcher):
    post_reveal(client, dispatcher, case, field="id_number")

    row = AuditEvent.objects.get(action="privacy.reveal")
    party = case.parties.get(role="applicant")
    assert (row.actor_id, row.actor_username, row.actor_roles, row.actor_unit_code) == (
        dispatcher.pk, "dispatcher", "dispatcher", "command")
    assert (row.object_type, row.object_id, row.fields, row.outcome, row.reason) == (
        "case", case.code, ["id_number"], "success", REASON)
    assert row.data == {"party": party.pk, "person": party.person_id, "party_role": "applicant",
                        "role": "dispatcher", "basis": "read_scope"}
    assert row.source_ip == "127.0.0.1"


def test_a_reveal_without_a_reason_is_refused_in_chinese_and_shows_nothing(client, case, dispatcher):
    response = post_reveal(client, dispatcher, case, reason=" 核实 ")

    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写查看理由（至少 4 个字），说明为何需要完整信息" in page
    assert PHONE not in page and "138****1234" in page
    assert [(row.outcome, row.data["denial"], row.reason) for row in reveal_rows()] == [("denied", "reason", " 核实 ")]


def test_a_refused_user_gets_404_even_without_a_reason_so_the_matter_is_not_confirmed(client, case, outsider):
    assert post_reveal(client, outsider, case, reason="").status_code == 404


def test_the_htmx_answer_is_a_fragment_with_the_full_value_that_is_not_cached(client, case, dispatcher):
    response = post_reveal(client, dispatcher, case, htmx=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert f'<span class="masked" aria-label="完整联系电话">{PHONE}</span>' in page
    assert "已查看 · 已留痕" in page
    assert (response["Cache-Control"], response["HX-Push-Url"]) == ("no-store", "false")


def test_an_htmx_reveal_without_a_reason_comes_back_as_the_masked_value_with_the_error(client, case, dispatcher):
    response = post_reveal(client, dispatcher, case, htmx=True, reason="")

    assert response.status_code == 200  # htmx swaps only 2xx answers
    page = response.content.decode()
    assert "请填写查看理由（至少 4 个字）" in page and "138****1234" in page and PHONE not in page
    assert 'hx-boost="true"' in page


def test_without_javascript_the_answer_is_a_page_with_the_value_and_a_way_back(client, case, registrar):
    response = post_reveal(client, registrar, case, field="address")

    assert response.status_code == 200
    page = response.content.decode()
    assert "查看完整住址" in page and "诸暨市枫桥镇枫源村3组18号" in page
    assert reverse("case_detail", args=[case.code]) in page
    assert response["Cache-Control"] == "no-store"


def test_a_party_of_another_matter_is_not_found_through_a_matter_one_may_read(client, case, registrar, dispatcher):
    other = make_case(registrar, region_code="330681001001", primary_type_code="neighbour")  # 暨阳街道

    response = post_reveal(client, dispatcher, case, party=party_id(other))

    assert response.status_code == 404
    assert [(row.object_id, row.data) for row in reveal_rows()] == [
        (case.code, {"party": str(party_id(other)), "denial": "not_found"})
    ]


def test_a_matter_of_another_township_is_not_found_for_its_own_party(client, registrar, outsider, handler):
    fengqiao = make_case(registrar)

    assert post_reveal(client, outsider, fengqiao).status_code == 404


@pytest.mark.parametrize("field", ["name", "credit_code", "id_number_hash", "../phone"])
def test_only_id_number_phone_and_address_can_be_revealed(client, case, dispatcher, field):
    client.force_login(dispatcher)
    response = client.post(f"/privacy/cases/{case.code}/parties/{party_id(case)}/{field}/reveal/", {"reason": REASON})

    assert response.status_code == 404


def test_reveal_is_post_only(client, case, dispatcher):
    client.force_login(dispatcher)

    assert client.get(reveal_url(case)).status_code == 405
    assert reveal_rows() == []


def test_reveals_are_limited_per_user_per_hour_with_a_clear_message(client, case, dispatcher, registrar, settings):
    settings.PRIVACY_REVEAL_LIMIT_PER_HOUR = 3
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert post_reveal(client, dispatcher, case).status_code == 200

        refused = post_reveal(client, dispatcher, case)
        other_user = post_reveal(client, registrar, case)

    assert refused.status_code == 429
    retry_at = timezone.localtime(start + timedelta(hours=1))
    assert f"查看完整信息过于频繁：每人每小时最多 3 次，请于 {retry_at:%H:%M} 后再试" in refused.content.decode()
    assert PHONE not in refused.content.decode()
    assert refused["Retry-After"] == "3601"
    assert other_user.status_code == 200
    assert [row.data.get("denial") for row in reveal_rows() if row.actor_username == "dispatcher"] == [
        None, None, None, "rate_limited"]
    with time_machine.travel(start + timedelta(hours=1, seconds=1), tick=False):
        assert post_reveal(client, dispatcher, case).status_code == 200


def test_the_reveal_link_on_a_matter_is_offered_only_to_those_who_may_reveal(rf, case, dispatcher, supervisor):
    from django.template import Context, Template

    template = Template(
        '{% load reveal %}{% reveal_allowed case as can_reveal %}'
        '{% masked_party_value case party "phone" can_reveal %}'
    )
    party = {"id": party_id(case), "phone": "138****1234"}
    pages = {}
    for user in (dispatcher, supervisor):
        request = rf.get("/")
        request.user = user
        pages[user.username] = template.render(Context({"request": request, "case": case, "party": party}))

    assert reveal_url(case) in pages["dispatcher"] and "查看完整" in pages["dispatcher"]
    assert "查看完整" not in pages["supervisor"] and "138****1234" in pages["supervisor"]
