"""The upward report listener's batch form (`on_case_event.for_batch`, used by the 12345 import) writes exactly
the messages of one call per (matter, event), and the per-event path reads only what it needs."""

import pytest

from yidi.cases.actions import do_accept_case
from yidi.cases.builders import make_case
from yidi.cases.models import Case, CaseEvent
from yidi.cases.tests import listener_batch
from yidi.cases.tests.listener_batch import listeners_off
from yidi.core import clock
from yidi.integrations.actions import muted
from yidi.integrations.models import OutboxMessage
from yidi.linkage.actions import do_receive_assignment, on_case_event
from yidi.linkage.domain import PeerDirection
from yidi.linkage.tests.helpers import CITY, make_peer, matter
from yidi.mediation.tests.helpers import at

pytestmark = pytest.mark.django_db
T0 = at(2026, 3, 10, 9, 0)


def both_ways(listener, pairs) -> list[tuple[list, int]]:
    """(the linkage rows, the deliveries queued for after the commit) after one call per pair, then after the
    batch form on all pairs; each run is rolled back."""
    return listener_batch.both_ways(listener, pairs, lambda queued: (list(
        OutboxMessage.objects.filter(kind="linkage").order_by("id").values_list(
            "kind", "destination", "idempotency_key", "payload", "subject_type", "subject_id", "template", "text",
            "status")), queued))


def event_of(case, action: str) -> tuple[Case, CaseEvent]:
    """The matter as it is now (with the rows a report names, as the batch path has them) and its event."""
    fresh = Case.objects.select_related("channel", "region", "primary_type", "lead_unit").get(pk=case.pk)
    return fresh, CaseEvent.objects.get(case=case, action=action)


@pytest.fixture
def peers(db):
    city, _ = make_peer(PeerDirection.ABOVE, CITY, name="绍兴市", url="https://shaoxing.example.gov.cn/")
    province, _ = make_peer(PeerDirection.ABOVE, "33", name="浙江省", url="https://zj.example.gov.cn/")
    make_peer(PeerDirection.BELOW, "330682", name="上虞区", url="https://shangyu.example.gov.cn/")
    return city, province


def test_the_batch_form_writes_the_messages_of_one_call_per_event(peers, registrar, dispatcher):
    city, _province = peers
    with listeners_off(), clock.at(T0):
        cases = [make_case(registrar), make_case(registrar, region_code="330681001", primary_type_code="")]
        assigned, _ = do_receive_assignment(city, {"reference": "SX-2026-0007", "matter": matter()}, actor=registrar)
        do_accept_case(assigned.code, actor=dispatcher)
        do_accept_case(cases[0].code, actor=dispatcher)
    pairs = [event_of(case, "register") for case in [*cases, assigned]]
    pairs += [event_of(assigned, "accept"), event_of(cases[0], "accept")]

    one_by_one, batch = both_ways(on_case_event, pairs)

    assert batch == one_by_one
    rows, queued = batch
    assert queued == len(rows) == 10  # five steps, each to the city and the province; none to the county below
    summary = [(row[1].split("/")[2], row[5], row[3]["step"]["action"], row[3]["assignment"],
                (row[3]["case"]["township"] or {}).get("code")) for row in rows]
    assert summary == [  # the peers in the order of their region codes: the province (33) first
        ("zj.example.gov.cn", cases[0].code, "register", "", "330681109"),
        ("shaoxing.example.gov.cn", cases[0].code, "register", "", "330681109"),
        ("zj.example.gov.cn", cases[1].code, "register", "", "330681001"),
        ("shaoxing.example.gov.cn", cases[1].code, "register", "", "330681001"),
        # registered with listeners off: its own first report would have named the assignment (`_RECEIVING`)
        ("zj.example.gov.cn", assigned.code, "register", "", "330681109"),
        ("shaoxing.example.gov.cn", assigned.code, "register", "", "330681109"),
        ("zj.example.gov.cn", assigned.code, "accept", "", "330681109"),
        ("shaoxing.example.gov.cn", assigned.code, "accept", "SX-2026-0007", "330681109"),
        ("zj.example.gov.cn", cases[0].code, "accept", "", "330681109"),
        ("shaoxing.example.gov.cn", cases[0].code, "accept", "", "330681109"),
    ]


def test_the_batch_form_reads_peers_origins_and_townships_once(peers, registrar, dispatcher,
                                                                django_assert_num_queries):
    with listeners_off(), clock.at(T0):
        cases = [make_case(registrar) for _ in range(3)]
        do_accept_case(cases[0].code, actor=dispatcher)
    pairs = [event_of(case, "register") for case in cases] + [event_of(cases[0], "accept")]

    with django_assert_num_queries(5):  # peers, origins (the acceptance only), townships, keys, one insert
        on_case_event.for_batch(pairs)

    assert OutboxMessage.objects.filter(kind="linkage").count() == 8


def test_a_registration_reads_the_peers_once_and_nothing_more_when_there_are_none(
        registrar, django_assert_num_queries):
    with listeners_off(), clock.at(T0):
        case = make_case(registrar)
    pair = event_of(case, "register")

    with django_assert_num_queries(1):
        on_case_event(*pair)
    with django_assert_num_queries(1):
        on_case_event.for_batch([pair])

    assert not OutboxMessage.objects.filter(kind="linkage").exists()


def test_a_step_that_is_not_reported_or_a_muted_outbox_reads_nothing(peers, registrar, django_assert_num_queries):
    with listeners_off(), clock.at(T0):
        case = make_case(registrar)
    pair = event_of(case, "register")
    side_step = CaseEvent(case=case, seq=2, action="update_facts", from_status="registered",
                          to_status="registered", at=T0)

    with django_assert_num_queries(0):
        on_case_event(case, side_step)
        on_case_event.for_batch([(case, side_step)])
        with muted():
            on_case_event(*pair)
            on_case_event.for_batch([pair])

    assert not OutboxMessage.objects.filter(kind="linkage").exists()
