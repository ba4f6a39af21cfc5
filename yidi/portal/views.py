"""The citizen portal's pages (public, mobile-first): parse → check the session's grant → one action or query →
render. The person never logs in; what they may do is kept in their session (see `Grants`).

Flow: `/p/` → 我要反映: phone → code → the form → done (code, tracking link, SMS);
             查询进度: code + phone → code → the matter's page for 30 minutes; or the private link `/p/t/<token>/`.
"""

import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from yidi.accounts.access import ActionDenied
from yidi.accounts.auth import do_count_request
from yidi.accounts.middleware import source_ip
from yidi.cases.domain import IllegalTransition, InvalidInput, RuleViolation
from yidi.cases.models import Case
from yidi.core import clock
from yidi.core.crypto import get_field_cipher
from yidi.core.masking import PersonalKind, mask
from yidi.portal import actions, domain, forms, queries
from yidi.portal.domain import VerificationDenied
from yidi.portal.models import ChallengePurpose

CHALLENGE_KEY = "portal_challenge"  # {"id", "purpose", "phone" (sealed), "phone_masked", "case_code"}
PHONE_KEY = "portal_phone"  # {"phone" (sealed), "until"}: the verified phone may submit until then
GRANTS_KEY = "portal_grants"  # {case code: until}: the matters this session may view
DONE_KEY = "portal_done"  # {"code", "token" (sealed)}: the last submission, for its done page
_SEAL_CONTEXT = b"portal.session"
POST_RATE_PER_MINUTE = 30


def _seal(value: str) -> str:
    return get_field_cipher().encrypt(value, context=_SEAL_CONTEXT)


def _open(sealed: str) -> str:
    return get_field_cipher().decrypt(sealed, context=_SEAL_CONTEXT)


def _now_ts() -> float:
    return clock.now().timestamp()


def _verified_phone(request: HttpRequest) -> str | None:
    state = request.session.get(PHONE_KEY)
    if not state or state["until"] <= _now_ts():
        return None
    return _open(state["phone"])


def _grant(request: HttpRequest, code: str) -> None:
    grants = {c: until for c, until in (request.session.get(GRANTS_KEY) or {}).items() if until > _now_ts()}
    grants[code] = _now_ts() + domain.GRANT_SECONDS
    request.session[GRANTS_KEY] = grants


def _granted_case(request: HttpRequest, code: str) -> Case:
    """The matter, if this session was granted it and the grant has not run out; else 404 (like no matter)."""
    until = (request.session.get(GRANTS_KEY) or {}).get(code)
    case = Case.objects.filter(code=code).first() if until and until > _now_ts() else None
    if case is None:
        raise Http404("事项不存在或查询已过期")
    return case


def _too_many(request: HttpRequest) -> HttpResponse | None:
    decision = do_count_request(scope="portal", source_ip=source_ip(request), limit_per_minute=POST_RATE_PER_MINUTE)
    if decision.allowed:
        return None
    response = render(request, "portal/rate_limited.html", {"retry_after": decision.retry_after_seconds}, status=429)
    response["Retry-After"] = str(decision.retry_after_seconds)
    return response


def _denied_status(denied: VerificationDenied) -> int:
    return 429 if denied.retry_after_seconds else 400


def _with_retry_after(response: HttpResponse, denied: VerificationDenied) -> HttpResponse:
    if denied.retry_after_seconds:
        response["Retry-After"] = str(denied.retry_after_seconds)
    return response


# --- landing ---------------------------------------------------------------------------------------------------


@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


# --- phone verification -------------------------------------------------------------------------------------------


def _start_challenge(request: HttpRequest, phone: str, *, purpose: ChallengePurpose, case_code: str = ""):
    sent = actions.do_request_code(phone, purpose=purpose, source_ip=source_ip(request), case_code=case_code)
    request.session[CHALLENGE_KEY] = {
        "id": sent.challenge_id, "purpose": str(purpose), "phone": _seal(phone),
        "phone_masked": mask(phone, PersonalKind.PHONE), "case_code": case_code,
    }
    return redirect("portal_verify")


@sensitive_post_parameters("phone")
@never_cache
@require_POST
def submit_phone(request: HttpRequest) -> HttpResponse:
    if limited := _too_many(request):
        return limited
    form = forms.PhoneForm(request.POST)
    if form.is_valid():
        try:
            return _start_challenge(request, form.cleaned_data["phone"], purpose=ChallengePurpose.SUBMIT)
        except VerificationDenied as denied:
            form.add_error("phone", str(denied))
            response = render(request, "portal/submit_phone.html", {"form": form}, status=_denied_status(denied))
            return _with_retry_after(response, denied)
    return render(request, "portal/submit_phone.html", {"form": form}, status=400)


def _demo_code(challenge_id) -> str:
    """`yidi demo` has no SMS gateway: the development sender keeps what it sent, and the demo shows the code."""
    if not settings.YIDI_DEMO_SHOW_CODES:
        return ""
    from yidi.integrations.transports import LogTransport

    key = f"portal-code-{challenge_id}"
    sent = next((message for message in reversed(LogTransport.sent) if message.key == key), None)
    found = re.search(r"\d{6}", sent.text) if sent else None
    return found.group(0) if found else ""


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    challenge = request.session.get(CHALLENGE_KEY)
    if not challenge:
        return redirect("portal_home")
    form = forms.CodeForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "challenge": challenge, "is_track": challenge["purpose"] == ChallengePurpose.TRACK,
               "demo_code": _demo_code(challenge["id"])}
    if request.method == "GET":
        return render(request, "portal/verify.html", context)
    if limited := _too_many(request):
        return limited
    if not form.is_valid():
        return render(request, "portal/verify.html", context, status=400)
    try:
        verified = actions.do_check_code(challenge["id"], form.cleaned_data["code"])
    except VerificationDenied as denied:
        form.add_error("code", str(denied))
        status = 429 if str(denied) == domain.MSG_LOCKED else 400
        return render(request, "portal/verify.html", context, status=status)
    del request.session[CHALLENGE_KEY]
    request.session.cycle_key()  # a new session id for what the session may now do
    if verified.purpose == ChallengePurpose.TRACK:
        _grant(request, verified.case_code)
        return redirect("portal_case", code=verified.case_code)
    request.session[PHONE_KEY] = {"phone": challenge["phone"], "until": _now_ts() + domain.GRANT_SECONDS}
    return redirect("portal_submit")


# --- submission ---------------------------------------------------------------------------------------------------


def _submission_form(data=None, files=None, *, initial=None) -> forms.SubmissionForm:
    unit = actions.portal_unit()
    return forms.SubmissionForm(
        data, files, initial=initial, townships=queries.list_townships(unit.region_id),
        villages=queries.list_villages(unit.region_id), limit_mb=settings.ATTACHMENT_MAX_BYTES // (1024 * 1024),
    )


# Where an action's field error goes on the portal's form.
ERROR_FIELDS = {
    "parties-0-name": "name", "parties-0-id_number": "id_number", "parties-1-name": "other_name",
    "parties-1-phone": "other_phone", "parties-1-kind": "other_kind", "region": "township",
    "title": "description", "description": "description", "files": "files",
    "amount_involved": "amount_involved", "people_involved": "people_involved",
}


def _submission_page(request: HttpRequest, form, phone: str, *, status: int = 200) -> HttpResponse:
    return render(request, "portal/submit.html", {
        "form": form, "phone_masked": mask(phone, PersonalKind.PHONE),
        "files_lost": request.method == "POST" and bool(request.FILES),
    }, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    phone = _verified_phone(request)
    if phone is None:
        if request.method == "POST":
            messages.warning(request, "手机验证已过期，请重新验证后再提交")
        return render(request, "portal/submit_phone.html", {"form": forms.PhoneForm()})
    if request.method == "GET":
        form = _submission_form(initial={"nonce": secrets.token_urlsafe(24)})
        return _submission_page(request, form, phone)
    form = _submission_form(request.POST, request.FILES)
    if form.is_valid():
        try:
            submitted = actions.do_submit_matter(
                form.build_draft(phone=phone),
                extras=actions.SubmissionExtras(
                    phone=phone, nonce=form.cleaned_data["nonce"], mediation_mode=form.cleaned_data["mediation_mode"],
                    requests=form.cleaned_data["requests"].strip(), uploads=form.cleaned_data["files"],
                ),
                tracking_url=lambda token: request.build_absolute_uri(reverse("portal_token", args=[token])),
            )
        except InvalidInput as error:
            form.add_error(ERROR_FIELDS.get(error.field), str(error))
        else:
            _grant(request, submitted.case.code)
            if not submitted.is_repeat:
                request.session[DONE_KEY] = {"code": submitted.case.code, "token": _seal(submitted.token)}
            elif (request.session.get(DONE_KEY) or {}).get("code") != submitted.case.code:
                request.session[DONE_KEY] = {"code": submitted.case.code, "token": ""}
            return redirect("portal_submit_done")
    return _submission_page(request, form, phone, status=400)


@never_cache
@require_http_methods(["GET"])
def submit_done(request: HttpRequest) -> HttpResponse:
    done = request.session.get(DONE_KEY)
    if not done:
        return redirect("portal_home")
    token = _open(done["token"]) if done["token"] else ""
    link = request.build_absolute_uri(reverse("portal_token", args=[token])) if token else ""
    return render(request, "portal/submit_done.html", {"code": done["code"], "link": link})


# --- tracking -------------------------------------------------------------------------------------------------------


@sensitive_post_parameters("phone")
@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "portal/track.html", {"form": forms.TrackForm()})
    if limited := _too_many(request):
        return limited
    form = forms.TrackForm(request.POST)
    if form.is_valid():
        try:
            return _start_challenge(request, form.cleaned_data["phone"], purpose=ChallengePurpose.TRACK,
                                    case_code=form.cleaned_data["case_code"])
        except VerificationDenied as denied:
            form.add_error("phone", str(denied))
            response = render(request, "portal/track.html", {"form": form}, status=_denied_status(denied))
            return _with_retry_after(response, denied)
    return render(request, "portal/track.html", {"form": form}, status=400)


@never_cache
@require_http_methods(["GET"])
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    case = actions.find_tracking_link(token)
    if case is None:
        raise Http404("链接无效或已过期")
    _grant(request, case.code)
    return redirect("portal_case", code=case.code)


def _case_page(request: HttpRequest, case: Case, *, evaluation_form=None, material_form=None,
               status: int = 200) -> HttpResponse:
    view = queries.get_public_view(case)
    state = queries.evaluation_state(case)
    evaluation_open = queries.is_evaluation_open(state)
    return render(request, "portal/case.html", {
        "view": view, "case": view.case,
        "evaluation_open": evaluation_open, "evaluation_state": state,
        "evaluation_form": evaluation_form or (forms.EvaluationForm() if evaluation_open else None),
        "material_form": material_form or (forms.MaterialForm() if view.is_open else None),
    }, status=status)


@never_cache
@require_http_methods(["GET"])
def case_page(request: HttpRequest, code: str) -> HttpResponse:
    return _case_page(request, _granted_case(request, code))


@never_cache
@require_POST
def evaluate(request: HttpRequest, code: str) -> HttpResponse:
    case = _granted_case(request, code)
    form = forms.EvaluationForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            actions.do_evaluate(case.code, evaluation=form.cleaned_data["evaluation"], note=form.cleaned_data["note"])
        except InvalidInput as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        except (RuleViolation, IllegalTransition, ActionDenied) as error:
            form.add_error(None, str(error))
            status = 409
        else:
            messages.success(request, "感谢您的评价")
            return redirect("portal_case", code=case.code)
    return _case_page(request, case, evaluation_form=form, status=status)


@never_cache
@require_POST
def add_material(request: HttpRequest, code: str) -> HttpResponse:
    case = _granted_case(request, code)
    form = forms.MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            actions.do_add_material(case.code, form.cleaned_data["files"])
        except InvalidInput as error:
            form.add_error("files", str(error))
        else:
            messages.success(request, "材料已提交，工作人员会一并查看")
            return redirect("portal_case", code=case.code)
    return _case_page(request, case, material_form=form, status=400)
