"""GET /api/v1/analytics/kpis and /rankings: scope, the client's visibility, exact figures, bad input."""

import pytest

from yidi.accounts.actions import do_create_api_client
from yidi.analytics.tests.builders import at, handled

pytestmark = pytest.mark.django_db


def _token(name: str, unit_code: str, scopes=("analytics:read",)) -> dict:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def resolved(registrar, dispatcher, handler, fq_platform):
    return handled(registrar, dispatcher, handler, fq_platform, registered=at(3, 2), accepted=at(3, 3),
                   signed=at(3, 3, 11), concluded=at(3, 6), closed=at(3, 9))


def test_kpis_return_numerator_denominator_value_and_reason(client, resolved):
    centre = _token("centre-bi", "centre")

    body = client.get("/api/v1/analytics/kpis?kpi=resolution,satisfaction&period=2026-03", **centre).json()

    assert body["slice"]["region"] == "330681" and body["slice"]["from"] == "2026-03-01" and body["has_data"]
    assert [(r["kpi"], r["numerator"], r["denominator"], r["value"], r["reason"]) for r in body["results"]] == [
        ("resolution", "1", "1", "100.00", ""), ("satisfaction", "0", "0", None, "本期无参评事项")]


def test_a_township_client_sees_its_township_only(client, resolved):
    jiyang = _token("jy-bi", "jy-platform")

    own = client.get("/api/v1/analytics/kpis?kpi=resolution&period=2026-03", **jiyang).json()
    other = client.get("/api/v1/analytics/kpis?kpi=resolution&period=2026-03&region=330681109", **jiyang)

    assert own["slice"]["region"] == "330681001" and own["results"][0]["denominator"] == "0"
    assert other.status_code == 404 and other.json()["code"] == "not_found"


def test_a_department_client_sees_only_its_own_units_figures(client, resolved):
    hrss = _token("hrss-bi", "hrss")

    own = client.get("/api/v1/analytics/kpis?kpi=resolution&period=2026-03", **hrss).json()
    other = client.get("/api/v1/analytics/kpis?kpi=resolution&period=2026-03&unit=fq-platform", **hrss)

    assert own["slice"]["unit"] == "hrss" and own["results"][0]["denominator"] == "0"
    assert other.status_code == 404


@pytest.mark.parametrize(("query", "field", "message"), [
    ("kpi=nope", "kpi", "没有指标“nope”"),
    ("period=2026-Q5", "period", "统计期间“2026-Q5”格式不对，应为 2026、2026-Q1 或 2026-03"),
    ("channel=fax", "channel", "没有来源渠道“fax”"),
])
def test_bad_input_is_400_with_the_parameter_and_a_chinese_message(client, query, field, message):
    centre = _token("centre-bi", "centre")

    response = client.get(f"/api/v1/analytics/kpis?{query}", **centre)

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"], response.json()["message"]) == (
        "invalid_input", field, message)


def test_the_scope_is_required(client):
    other = _token("cases-only", "centre", scopes=("cases:read",))

    response = client.get("/api/v1/analytics/kpis", **other)

    assert response.status_code == 403 and response.json()["code"] == "forbidden_scope"


def test_rankings_return_ranks_volumes_and_the_previous_period(client, resolved):
    centre = _token("centre-bi", "centre")

    body = client.get("/api/v1/analytics/rankings?group=township&by=resolution&period=2026-03", **centre).json()

    fengqiao = next(row for row in body["results"] if row["key"] == "330681109")
    assert (body["minimum_volume"], body["previous_period"]) == (10, "2026年2月")
    assert (fengqiao["rank"], fengqiao["value"], fengqiao["volume"], fengqiao["note"]) == (
        None, "100.00", 1, "样本不足，不参与排名")
    bad = client.get("/api/v1/analytics/rankings?group=village", **centre)
    assert bad.status_code == 400 and bad.json()["field"] == "group"
