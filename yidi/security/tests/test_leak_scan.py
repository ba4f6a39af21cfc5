"""The suite-wide scan for unmasked personal data (`yidi.security.leaks`) finds what it must and only that."""

import logging

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from yidi.security.leaks import LeakLogHandler, LeakScanMiddleware, collector, find_personal_data

ID = "330681199003154418"  # a valid check character
PHONE = "13805751234"


def scan(body, *, method="get", data=None, streaming=False, url_name="case_detail"):
    request = getattr(RequestFactory(), method)("/cases/330681-2026-000001/", data or {})

    def view(request):
        request.resolver_match = type("Match", (), {"url_name": url_name})()
        return StreamingHttpResponse(iter(body)) if streaming else HttpResponse(body)

    response = LeakScanMiddleware(view)(request)
    if streaming:
        b"".join(response.streaming_content)
    return [str(leak) for leak in collector.take()]


def test_id_and_phone_numbers_are_found_only_when_unmasked_and_standing_alone():
    text = f"{ID} 330***********4418 {PHONE} 138****1234 hash a{PHONE}f 9{ID} 330681-2026-000123 330681199003154417"
    assert find_personal_data(text) == [("id_number", ID), ("phone", PHONE)]


def test_a_page_showing_a_full_number_is_reported_masked():
    assert scan(f"<td>{ID}</td><td>{PHONE}</td>") == [
        "GET /cases/330681-2026-000001/: 未脱敏的身份证号 330***********4418",
        "GET /cases/330681-2026-000001/: 未脱敏的手机号 138****1234",
    ]


def test_a_streamed_export_is_scanned_across_chunk_boundaries():
    assert scan([b"name,phone\n", b"\xe5\xbc\xa0\xe4\xb8\x89,13805", b"751234\n"], streaming=True) == [
        "GET /cases/330681-2026-000001/: 未脱敏的手机号 138****1234"
    ]


def test_the_clerks_own_input_echoed_back_is_not_a_leak():
    assert scan(f'<input name="phone" value="{PHONE}">', method="post", data={"phone": PHONE}) == []


def test_the_audited_reveal_may_show_the_full_value():
    assert scan(f"<span>{ID}</span>", url_name="privacy_reveal") == []


def test_log_lines_and_tracebacks_are_scanned():
    handler = LeakLogHandler()
    logger = logging.getLogger("yidi.test_leaks")
    logger.addHandler(handler)
    logger.propagate = False  # only this handler: the suite's own one sits on the root logger
    try:
        logger.warning("person %s called", PHONE)
        try:
            raise ValueError(f"bad id {ID}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert [str(leak) for leak in collector.take()] == [
        "log yidi.test_leaks: 未脱敏的手机号 138****1234",
        "log yidi.test_leaks: 未脱敏的身份证号 330***********4418",
    ]


@pytest.mark.django_db
def test_the_suite_scans_real_pages(client, registrar):
    """The middleware is installed in the test settings: a real page goes through it."""
    from django.conf import settings

    assert settings.MIDDLEWARE[0] == "yidi.security.leaks.LeakScanMiddleware"
    client.force_login(registrar)
    assert client.get("/").status_code == 200
    assert collector.take() == []
