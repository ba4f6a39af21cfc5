"""The grid workers' writes: a patrol report with its photos and on-the-spot result, the result of an
on-the-spot mediation that did not settle the matter, and a follow-up. Each is one transaction."""

from dataclasses import dataclass, replace

from django.db import transaction

from yidi.accounts import access
from yidi.cases.actions import attach_file, do_register_case, do_resolve_on_spot, side_event
from yidi.cases.domain import AGREEMENT_OUTCOMES, CaseDraft, CaseStatus, InvalidInput, Outcome, RuleViolation
from yidi.cases.models import Attachment, AttachmentKind, Case
from yidi.cases.uploads import check_upload, sniff_content_type
from yidi.core.masking import mask_in_text
from yidi.grid.domain import MAX_PHOTOS, PHOTO_TYPES, OnSpotResult, is_grid_user

GRID_CHANNEL = "grid_report"


@dataclass(frozen=True)
class GridReport:
    """A matter found on patrol: its facts and parties (`draft`), photos, and what happened on the spot.

    `outcome` (an agreement) and `summary` (what was agreed) go with `RESOLVED`; `summary` (what was tried
    and why it did not settle) goes with `ATTEMPTED`.
    """

    draft: CaseDraft
    photos: tuple = ()
    result: OnSpotResult = OnSpotResult.REPORTED
    outcome: str = ""
    summary: str = ""


def _require_grid_user(actor) -> None:
    if not (actor.unit_id and is_grid_user(actor.role_set, actor.unit.kind)):
        raise access.ActionDenied("只有网格员和村（社区）调委会登记员可以执行此操作")


def check_photo(upload) -> tuple[str, bytes]:
    """A photo is a JPG or PNG, read from its bytes (the name and the browser's type are not trusted)."""
    head = upload.read(16)
    upload.seek(0)
    if head and sniff_content_type(head, b"") not in PHOTO_TYPES:
        raise InvalidInput("photos", "文件内容不是照片，仅接受 JPG、PNG 图片（按内容识别，与文件名无关）")
    return check_upload(upload)


def _attach_photos(case: Case, photos, *, actor, description: str) -> list[Attachment]:
    """Store the photos on the matter; the first one refused undoes the caller's whole transaction."""
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput("photos", f"照片最多 {MAX_PHOTOS} 张")
    attached = []
    for photo in photos:
        try:
            attached.append(attach_file(case, photo, actor=actor, kind=AttachmentKind.EVIDENCE,
                                        description=description, check=check_photo))
        except InvalidInput as error:
            name = mask_in_text(photo.name[:60])
            raise InvalidInput("photos", f"照片“{name}”未通过检查：{error}。本次未保存任何内容，请重新选择照片后提交") from None
    return attached


def _check_result(report: GridReport) -> None:
    """The on-the-spot result's own inputs, checked before anything is written."""
    if report.result == OnSpotResult.RESOLVED:
        if report.outcome not in AGREEMENT_OUTCOMES:
            raise InvalidInput("outcome", "当场化解须达成协议，请选择书面协议或口头协议")
        if not report.summary.strip():
            raise InvalidInput("agreement", "请填写当场化解的经过和协议内容")
        if not any(party.role == "applicant" for party in report.draft.parties):
            raise InvalidInput("applicant_name", "当场化解须填写达成协议的当事人（申请人）")
    elif report.result == OnSpotResult.ATTEMPTED and not report.summary.strip():
        raise InvalidInput("attempt_summary", "请填写现场调解的经过和未化解的原因")


@transaction.atomic
def do_report_grid_matter(report: GridReport, *, actor) -> Case:
    """Register a matter found on patrol (channel 网格员上报, nobody came in person), store its photos and
    record the on-the-spot result, all or nothing.

    - `RESOLVED`: settled by agreement on the spot (`do_resolve_on_spot`): concluded under the worker's unit;
    - `ATTEMPTED`: a `record_on_spot_attempt` event; the matter waits for acceptance at the centre;
    - `REPORTED`: registered only.
    A photo that is not a JPG or PNG image, or any refused input, leaves nothing registered.
    """
    _require_grid_user(actor)
    result = OnSpotResult(report.result)
    if len(report.photos) > MAX_PHOTOS:
        raise InvalidInput("photos", f"照片最多 {MAX_PHOTOS} 张")
    _check_result(report)
    case = do_register_case(replace(report.draft, channel_code=GRID_CHANNEL, in_person=False), actor=actor)
    _attach_photos(case, report.photos, actor=actor, description="网格员巡查现场照片")
    if result == OnSpotResult.RESOLVED:
        case = do_resolve_on_spot(case.code, actor=actor, outcome=Outcome(report.outcome), summary=report.summary)
    elif result == OnSpotResult.ATTEMPTED:
        case = do_record_on_spot_attempt(case.code, actor=actor, summary=report.summary)
    return case


def _begin_on_spot(code: str, *, actor) -> Case:
    """Lock a matter that the actor's unit registered and nobody has accepted yet."""
    _require_grid_user(actor)
    case = access.get_case_for_user(actor, code, for_update=True)
    if case.registering_unit_id != actor.unit_id:
        raise access.ActionDenied("只有登记该事项的单位可以登记现场调解结果")
    if case.status != CaseStatus.REGISTERED:
        raise RuleViolation("事项已受理，不能再登记现场调解结果")
    return case


@transaction.atomic
def do_record_on_spot_attempt(code: str, *, actor, summary: str) -> Case:
    """现场调解未化解: the worker tried to settle the matter where it arose and could not. The status stays
    `registered`: the centre accepts and assigns it as usual, knowing what was tried."""
    summary = summary.strip()
    if not summary:
        raise InvalidInput("attempt_summary", "请填写现场调解的经过和未化解的原因")
    case = _begin_on_spot(code, actor=actor)
    side_event(case, "record_on_spot_attempt", actor=actor, reason=summary)
    return case


@transaction.atomic
def do_resolve_grid_matter(code: str, *, actor, outcome: str, summary: str) -> Case:
    """当场化解 recorded later from the matter card: the same rules as `do_resolve_on_spot`, for grid users."""
    if outcome not in AGREEMENT_OUTCOMES:
        raise InvalidInput("outcome", "当场化解须达成协议，请选择书面协议或口头协议")
    _begin_on_spot(code, actor=actor)
    return do_resolve_on_spot(code, actor=actor, outcome=Outcome(outcome), summary=summary)


@transaction.atomic
def do_record_grid_follow_up(code: str, *, actor, note: str, uploads=()) -> Case:
    """网格员跟进: what the worker saw or did on a matter in their area, with optional photos (one
    `grid_follow_up` event, plus one event per photo). An archived matter takes no more follow-ups."""
    note = note.strip()
    if not note:
        raise InvalidInput("note", "请填写跟进情况")
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput("photos", f"照片最多 {MAX_PHOTOS} 张")
    _require_grid_user(actor)
    case = access.get_case_for_user(actor, code, for_update=True)
    if case.status == CaseStatus.ARCHIVED:
        raise RuleViolation("事项已归档，不能再补充跟进记录")
    side_event(case, "grid_follow_up", actor=actor, reason=note, data={"photos": len(uploads)},
               audit_fields=["events"])
    _attach_photos(case, uploads, actor=actor, description="网格员跟进照片")
    return case
