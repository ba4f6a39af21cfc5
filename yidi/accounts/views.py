"""Log-in, two-factor, log-out and password pages: parse → call one `auth` function → render.

The flow (docs/authentication.md): password (`login`) → for accounts with an authenticator, the code
(`two_factor_verify`); for accounts that must have one but have none, enrolment (`two_factor_setup`) → logged in.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from yidi.accounts import auth
from yidi.accounts.forms import (
    CodeForm,
    ConfirmIdentityForm,
    EnrolmentForm,
    LoginForm,
    PasswordChangeForm,
    RecoveryAwareCodeForm,
)
from yidi.accounts.middleware import (
    AUTH_STATE_KEY,
    ENROLMENT_SECRET_KEY,
    cancel_pending_login,
    complete_login,
    get_pending_login,
    mark_identity_confirmed,
    mark_second_factor_verified,
    source_ip,
    start_pending_login,
)
from yidi.accounts.models import User

LOCKED_AFTER_CODES = "验证码错误次数过多，账号已被临时锁定，请稍后再登录。"


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _data(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def _rate_limited(request: HttpRequest, scope: str) -> HttpResponse | None:
    decision = auth.do_count_request(scope=scope, source_ip=source_ip(request))
    if decision.allowed:
        return None
    response = render(request, "accounts/rate_limited.html", {"retry_after": decision.retry_after_seconds},
                      status=429)
    response["Retry-After"] = str(decision.retry_after_seconds)
    return response


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(_data(request))
    if request.method == "POST":
        if limited := _rate_limited(request, "login"):
            return limited
        if form.is_valid():
            user = auth.check_password_login(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"],
                source_ip=source_ip(request),
            )
            if user is not None:
                return _after_password(request, user, next_url)
            form.add_error(None, auth.GENERIC_LOGIN_ERROR)
    return _login_page(request, form, next_url)


def _login_page(request: HttpRequest, form: LoginForm, next_url: str) -> HttpResponse:
    policy = auth.get_policy()
    return render(request, "accounts/login.html", {
        "form": form, "next": next_url, "lockout_failures": policy.lockout_failures,
        "lockout_minutes": round(policy.lockout.total_seconds() / 60),
    })


def _after_password(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    if auth.has_two_factor(user):
        start_pending_login(request, user, step="verify", next_url=next_url)
        return redirect("two_factor_verify")
    if auth.requires_two_factor(user):
        start_pending_login(request, user, step="enrol", next_url=next_url)
        return redirect("two_factor_setup")
    if not auth.do_record_login(user, source_ip=source_ip(request), second_factor="none"):
        form = LoginForm(request.POST)
        form.is_valid()
        form.add_error(None, auth.GENERIC_LOGIN_ERROR)
        return _login_page(request, form, next_url)
    complete_login(request, user, second_factor=False)
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    pending = get_pending_login(request, step="verify")
    if pending is None:
        messages.warning(request, "验证已超时，请重新登录。")
        return redirect("login")
    user, state = pending
    form = RecoveryAwareCodeForm(_data(request))
    if request.method == "POST":
        if limited := _rate_limited(request, "second_factor"):
            return limited
        if form.is_valid():
            result = auth.do_verify_two_factor(user, form.cleaned_data["code"], source_ip=source_ip(request))
            if result.ok:
                complete_login(request, user, second_factor=True)
                if result.method == "recovery_code":
                    left = auth.count_unused_recovery_codes(user)
                    messages.warning(request, f"您使用了一个恢复码，还剩 {left} 个。如手机已丢失，请联系安全管理员重新绑定。")
                return redirect(state["next"] or settings.LOGIN_REDIRECT_URL)
            if result.locked:
                cancel_pending_login(request)
                messages.error(request, LOCKED_AFTER_CODES)
                return redirect("login")
            form.add_error("code", "验证码错误或已使用过，请输入验证器上最新显示的 6 位数字。")
    return render(request, "accounts/two_factor_verify.html", {"form": form, "pending_user": user})


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: as the mandatory step of a log-in, or later by a logged-in user who chooses to.

    The secret is made on the first GET and kept, encrypted, in the session until a code confirms it; nothing
    is written to the database before that.
    """
    pending = get_pending_login(request, step="enrol")
    if pending is not None:
        user, state = pending
    elif request.user.is_authenticated:
        user, state = request.user, None
        if auth.has_two_factor(user):
            messages.info(request, "您已启用两步验证。")
            return redirect("account_security")
    else:
        messages.warning(request, "验证已超时，请重新登录。")
        return redirect("login")
    sealed = request.session.get(ENROLMENT_SECRET_KEY)
    if sealed is None:
        secret = auth.new_totp_secret()
        request.session[ENROLMENT_SECRET_KEY] = auth.seal_enrolment_secret(secret)
    else:
        secret = auth.open_enrolment_secret(sealed)
    form = CodeForm(_data(request)) if state is not None else EnrolmentForm(_data(request), user=user)
    if request.method == "POST":
        if limited := _rate_limited(request, "second_factor"):
            return limited
        if form.is_valid():
            result = auth.do_enrol_two_factor(
                user, secret=secret, code=form.cleaned_data["code"], source_ip=source_ip(request),
                completes_login=state is not None,
            )
            if result.ok:
                request.session.pop(ENROLMENT_SECRET_KEY, None)
                if state is not None:
                    complete_login(request, user, second_factor=True)
                else:
                    mark_second_factor_verified(request)
                next_url = (state or {}).get("next") or resolve_url(settings.LOGIN_REDIRECT_URL)
                return render(request, "accounts/recovery_codes.html",
                              {"codes": result.recovery_codes, "next_url": next_url})
            if result.locked:
                cancel_pending_login(request)
                messages.error(request, LOCKED_AFTER_CODES)
                return redirect("login")
            form.add_error("code", "验证码不正确，请核对手机时间后输入验证器上最新显示的 6 位数字。")
    uri = auth.provisioning_uri(user, secret)
    return render(request, "accounts/two_factor_setup.html", {
        "form": form,
        "qr_svg": mark_safe(auth.qr_code_svg(uri)),  # noqa: S308 - generated by segno from our own URI
        "secret": auth.format_secret(secret),
        "pending_user": user,
        "is_mandatory": auth.requires_two_factor(user),
        "is_login_step": state is not None,
    })


@require_POST
@csrf_protect
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only. Deletes the session on the server (a copied cookie is dead too) and asks the browser to drop
    cached pages and storage (`Clear-Site-Data`)."""
    if request.user.is_authenticated:
        auth.do_record_logout(request.user)
        logout(request)
    else:
        request.session.flush()
    messages.success(request, "您已安全退出。")
    response = redirect(settings.LOGOUT_REDIRECT_URL)
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PasswordChangeForm(user, _data(request))
    if request.method == "POST":
        if limited := _rate_limited(request, "password_change"):
            return limited
        if form.is_valid():
            auth.do_change_password(user, form.cleaned_data["new_password1"], actor=user)
            update_session_auth_hash(request, user)  # stays logged in, with a new session id
            messages.success(request, "密码已修改。")
            return redirect(settings.LOGIN_REDIRECT_URL)
    required_because = ""
    if auth.is_password_change_required(user, now=timezone.now()):
        days = auth.get_policy().password_max_age_days
        required_because = (
            "请先设置新密码，然后才能继续使用系统。" if user.password_changed_at is None
            else f"您的密码已使用超过 {days} 天，修改密码后才能继续使用系统。"
        )
    return render(request, "accounts/password_change.html", {"form": form, "required_because": required_because})


@login_required
@never_cache
def account_security(request: HttpRequest) -> HttpResponse:
    user = request.user
    state = request.session.get(AUTH_STATE_KEY) or {}
    return render(request, "accounts/security.html", {
        "password_changed_at": user.password_changed_at,
        "password_expires_at": auth.password_expires_at(user),
        "has_two_factor": auth.has_two_factor(user),
        "is_two_factor_mandatory": auth.requires_two_factor(user),
        "recovery_codes_left": auth.count_unused_recovery_codes(user),
        "logged_in_at": datetime.fromtimestamp(state["at"], tz=UTC) if "at" in state else None,
        "session_idle_minutes": round(settings.SESSION_COOKIE_AGE / 60),
        "session_absolute_hours": round(auth.get_policy().session_absolute.total_seconds() / 3600),
    })


@sensitive_post_parameters("password", "code")
@login_required
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def confirm_identity(request: HttpRequest) -> HttpResponse:
    """再次验证身份 (AUTH-09): the password again (and the code) before revealing or exporting personal data;
    then back to `next`. Failures count towards the log-in lockout; a lock ends the session."""
    next_url = _next_url(request, request.POST.get("next") or request.GET.get("next")) or settings.LOGIN_REDIRECT_URL
    needs_code = auth.has_two_factor(request.user)
    form = ConfirmIdentityForm(_data(request), needs_code=needs_code)
    if request.method == "POST":
        if limited := _rate_limited(request, "reauth"):
            return limited
        if form.is_valid():
            result = auth.do_confirm_identity(
                request.user, password=form.cleaned_data["password"], code=form.cleaned_data.get("code", ""),
                source_ip=source_ip(request),
            )
            if result.ok:
                mark_identity_confirmed(request)
                return redirect(next_url)
            if result.locked:
                logout(request)
                messages.error(request, "验证失败次数过多，账号已被临时锁定，请稍后再登录。")
                return redirect("login")
            form.add_error(result.error_field, result.error)
    return render(request, "accounts/confirm_identity.html", {
        "form": form, "next": next_url, "minutes": round(settings.AUTH_REAUTH_SECONDS / 60),
    })
