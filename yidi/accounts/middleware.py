"""Session rules enforced on every request, and the session state the log-in steps keep.

Rules (security-requirements.md SES-01, SES-02, AUTH-03, AUTH-05; docs/authentication.md):
- A log-in records its time and whether a second factor was verified (`AUTH_STATE_KEY`). Past
  `AUTH_SESSION_ABSOLUTE_SECONDS` (12 h) after the log-in, however active, the session is ended (audited) and
  the user sent to the log-in page with a message. The 30-minute idle limit is the session's own expiry
  (`SESSION_COOKIE_AGE` with `SESSION_SAVE_EVERY_REQUEST`).
- A session of a user who must use two-factor but whose log-in did not verify one (a role granted since, a
  session from before this check) is ended.
- A session without a log-in record was not made by the log-in view: a session from before this check, or
  the test client's `force_login`. It gets a record from now on, verified for two-factor only when
  `AUTH_TRUST_FORCE_LOGIN` is set (the test settings; never in production).
- Between the password and the second factor the user is not logged in (`PENDING_KEY` holds who it is, for
  `AUTH_PENDING_SECONDS`); every page but the pending step, the log-in page and log-out leads to that step.
- A staff member whose password must be changed reaches only the password page and log-out.
- Django admin's own log-in and password pages lead to ours, so they cannot bypass lockout or two-factor.
- Sensitive actions (AUTH-09: revealing a full value, exporting personal data, binding an authenticator)
  need the identity confirmed within `AUTH_REAUTH_SECONDS` (5 min): the log-in counts, and so does the
  confirmation page (`reauth`: the password again, plus the code for accounts with an authenticator). Views
  say so with `recent_auth_required`; a stale confirmation leads to that page and back, or, for a JSON
  client, to 401 with code `reauth_required`.
"""

import functools
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils import timezone

from yidi.accounts import auth
from yidi.accounts.models import User

# {"at": log-in time (Unix seconds), "second_factor": bool, "confirmed_at": last password entry (Unix seconds)}
AUTH_STATE_KEY = "yidi_auth"
PENDING_KEY = "yidi_pending_login"  # {"user_id", "backend", "at", "step": "verify"|"enrol", "next"}
ENROLMENT_SECRET_KEY = "yidi_enrolment_secret"  # the secret being enrolled, encrypted
PENDING_SECONDS = 300

PENDING_STEP_VIEWS = {"verify": "two_factor_verify", "enrol": "two_factor_setup"}
PENDING_ALLOWED_VIEWS = {"login", "logout", *PENDING_STEP_VIEWS.values()}
PASSWORD_CHANGE_ALLOWED_VIEWS = {"password_change", "logout"}
ADMIN_VIEWS_REPLACED = {"admin:login": "login", "admin:password_change": "password_change"}


# --- session state (used by the views) ---------------------------------------------------------------------


def start_pending_login(request: HttpRequest, user: User, *, step: str, next_url: str) -> None:
    """The password was right; the second factor (`step` "verify" or "enrol") is still to come. A new session
    id now, another at the log-in."""
    if request.user.is_authenticated:
        logout(request)
    else:
        request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk, "backend": user.backend, "at": int(time.time()), "step": step, "next": next_url,
    }


def get_pending_login(request: HttpRequest, *, step: str | None = None) -> tuple[User, dict] | None:
    """The user between password and second factor, if the step has not timed out (and is `step`)."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None
    if time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        request.session.pop(ENROLMENT_SECRET_KEY, None)
        return None
    if step is not None and pending["step"] != step:
        return None
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None:
        return None
    user.backend = pending["backend"]
    return user, pending


def cancel_pending_login(request: HttpRequest) -> None:
    request.session.flush()


def complete_login(request: HttpRequest, user: User, *, second_factor: bool) -> None:
    """Log `user` in (Django's `login` gives the session a new id) and record when and how."""
    request.session.pop(PENDING_KEY, None)
    request.session.pop(ENROLMENT_SECRET_KEY, None)
    login(request, user, backend=getattr(user, "backend", None))
    now = int(time.time())
    request.session[AUTH_STATE_KEY] = {"at": now, "second_factor": second_factor, "confirmed_at": now}


def identity_confirmed_recently(request: HttpRequest) -> bool:
    state = request.session.get(AUTH_STATE_KEY) or {}
    confirmed_at = state.get("confirmed_at", state.get("at", 0))
    return time.time() - confirmed_at < settings.AUTH_REAUTH_SECONDS


def mark_identity_confirmed(request: HttpRequest) -> None:
    state = dict(request.session.get(AUTH_STATE_KEY) or {"at": int(time.time()), "second_factor": False})
    state["confirmed_at"] = int(time.time())
    request.session[AUTH_STATE_KEY] = state


def recent_auth_required(view):
    """Decorate a view of a sensitive action: it runs only if the user confirmed their identity within
    `AUTH_REAUTH_SECONDS`. Otherwise a JSON client gets 401 `{"code": "reauth_required"}`; a page goes to the
    confirmation page, which returns to where the user was (the page they came from for a POST)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated or identity_confirmed_recently(request):
            return view(request, *args, **kwargs)
        if "application/json" in request.headers.get("Accept", "") and "text/html" not in request.headers.get(
            "Accept", ""
        ):
            return JsonResponse({"code": "reauth_required", "message": "请先再次验证身份"}, status=401)
        back = request.get_full_path() if request.method == "GET" else request.headers.get("Referer", "")
        return redirect_to(request, f"{resolve_url('reauth')}?{urlencode({'next': back})}" if back
                           else resolve_url("reauth"))

    return wrapped


def mark_second_factor_verified(request: HttpRequest) -> None:
    state = dict(request.session.get(AUTH_STATE_KEY) or {"at": int(time.time())})
    state["second_factor"] = True
    request.session[AUTH_STATE_KEY] = state


def source_ip(request: HttpRequest) -> str | None:
    """The peer address. Behind a reverse proxy the server must set REMOTE_ADDR from the proxy's header
    (docs/authentication.md), or every user shares the proxy's address."""
    return request.META.get("REMOTE_ADDR") or None


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also works for htmx requests (which would otherwise swap the target into the page)."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def login_url_for(next_url: str) -> str:
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}"


# --- the middleware ------------------------------------------------------------------------------------------


class LoginPolicyMiddleware:
    """Place after AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if view_name in ADMIN_VIEWS_REPLACED:
            target = resolve_url(ADMIN_VIEWS_REPLACED[view_name])
            next_url = request.GET.get("next")
            return redirect_to(request, f"{target}?{urlencode({'next': next_url})}" if next_url else target)
        if not request.user.is_authenticated:
            return self._pending_step(request, view_name)
        return self._check_session(request, request.user, view_name)

    def _pending_step(self, request: HttpRequest, view_name: str) -> HttpResponse | None:
        if view_name in PENDING_ALLOWED_VIEWS or PENDING_KEY not in request.session:
            return None
        pending = get_pending_login(request)
        if pending is None:
            return None
        return redirect_to(request, resolve_url(PENDING_STEP_VIEWS[pending[1]["step"]]))

    def _check_session(self, request: HttpRequest, user: User, view_name: str) -> HttpResponse | None:
        state = request.session.get(AUTH_STATE_KEY)
        if state is None:
            now, trusted = int(time.time()), bool(getattr(settings, "AUTH_TRUST_FORCE_LOGIN", False))
            state = {"at": now, "second_factor": trusted, "confirmed_at": now if trusted else 0}
            request.session[AUTH_STATE_KEY] = state
        policy = auth.get_policy()
        if time.time() - state["at"] >= policy.session_absolute.total_seconds():
            hours = round(policy.session_absolute.total_seconds() / 3600)
            return self._end(request, user, reason="absolute_timeout",
                             message=f"登录已超过 {hours} 小时，为了安全请重新登录。")
        if not state.get("second_factor") and auth.requires_two_factor(user):
            return self._end(request, user, reason="second_factor_required",
                             message="您的账号须使用两步验证，请重新登录。")
        if view_name not in PASSWORD_CHANGE_ALLOWED_VIEWS and auth.is_password_change_required(user, now=timezone.now()):
            return redirect_to(request, resolve_url("password_change"))  # the page says why
        return None

    def _end(self, request: HttpRequest, user: User, *, reason: str, message: str) -> HttpResponse:
        next_url = request.get_full_path() if request.method == "GET" else resolve_url(settings.LOGIN_REDIRECT_URL)
        auth.do_record_logout(user, reason=reason)
        logout(request)
        messages.warning(request, message)
        return redirect_to(request, login_url_for(next_url))
