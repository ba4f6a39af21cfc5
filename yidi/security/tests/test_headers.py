"""Web hardening (issue 5 §6): security headers on every page, cookie flags, CSRF, HSTS in production
settings, and no stack trace to users."""

import json
import os
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from yidi.cases.builders import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'")


@pytest.mark.parametrize(("path", "status"), [("/accounts/login/", 200), ("/", 200), ("/cases/", 200),
                                              ("/no-such-page/", 404)])
def test_every_page_carries_the_security_headers(client, registrar, path, status):
    if path != "/accounts/login/":
        client.force_login(registrar)
    response = client.get(path)

    assert response.status_code == status
    assert response["Content-Security-Policy"] == CSP
    assert (response["X-Frame-Options"], response["X-Content-Type-Options"], response["Referrer-Policy"],
            response["Cross-Origin-Opener-Policy"]) == ("DENY", "nosniff", "same-origin", "same-origin")


def test_no_inline_script_or_style_is_needed_by_the_pages(client, registrar):
    """The CSP allows no inline code, so a page must not contain any (it would silently not run)."""
    client.force_login(registrar)
    body = client.get("/").content.decode()
    assert "<script>" not in body and " onclick=" not in body and "<style>" not in body and ' style="' not in body


def test_logging_in_sets_a_new_http_only_same_site_session_cookie(client, registrar):
    client.get("/accounts/login/")
    assert client.cookies["csrftoken"]["samesite"] == "Lax"

    response = client.post("/accounts/login/", {"username": "registrar", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert (session["httponly"], session["samesite"], session["max-age"]) == (True, "Lax", 1800)


def test_a_post_without_the_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "registrar", "password": "x"})
    assert response.status_code == 403
    assert "CSRF" not in response.content.decode() or "安全" in response.content.decode()


def test_production_settings_make_cookies_secure_and_send_hsts_for_a_year():
    env = {key: value for key, value in os.environ.items() if not key.startswith("YIDI_")}
    env |= {"DJANGO_SETTINGS_MODULE": "yidi.settings", "YIDI_SECRET_KEY": "x" * 50,
            "YIDI_FIELD_KEYS": "k1:" + "A" * 43 + "=", "YIDI_ALLOW_INSECURE_KEY": "0"}
    code = ("import json, django; django.setup(); from django.conf import settings as s; print(json.dumps(["
            "s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
            "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.AUTH_TRUST_FORCE_LOGIN]))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [False, True, True, 31_536_000, True, False]


@override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_hsts_is_sent_on_https_requests():
    response = Client().get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@override_settings(ROOT_URLCONF="yidi.security.tests.urls", DEBUG=False)
def test_an_unexpected_error_shows_a_chinese_page_without_the_stack_trace(registrar):
    client = Client(raise_request_exception=False)
    client.force_login(registrar)
    response = client.get("/security-test/fails/")

    body = response.content.decode()
    assert response.status_code == 500
    assert "系统" in body and "Traceback" not in body and "RuntimeError" not in body and "SELECT" not in body
    assert response["Content-Security-Policy"] == CSP
