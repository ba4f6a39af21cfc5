"""Reads of the linkage app: the month's figures a county reports up, the peers with their counts, a platform's
mirror, and one matter's exchange."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Q
from django.db.models.functions import Substr

from yidi.accounts.domain import CASE_READER_ROLES
from yidi.cases.domain import STATUS_LABELS, CaseStatus
from yidi.cases.models import Case
from yidi.integrations.models import OutboxMessage
from yidi.linkage.domain import PeerDirection, month_of, parse_month
from yidi.linkage.models import (
    DownwardAssignment,
    Peer,
    ReceivedAssignment,
    ReportedCase,
    ReportedFigures,
    TransferRequest,
)
from yidi.regions.domain import is_within
from yidi.regions.models import Region

VIEWER_ROLES = frozenset({"dispatcher", "leader", "supervisor"})
TRANSFER_ROLES = frozenset({"registrar", "dispatcher"})
ASSIGN_ROLES = frozenset({"dispatcher"})
OPEN_STATUSES = [status.value for status in CaseStatus if status not in {
    CaseStatus.NOT_ACCEPTED, CaseStatus.CLOSED, CaseStatus.ARCHIVED}]


def _has_role(user, roles) -> bool:
    return bool(user is not None and user.is_authenticated and user.unit_id and {str(r) for r in user.role_set} & roles)


def can_view_linkage(user) -> bool:
    """The overview: dispatchers, leaders and supervisors of a unit."""
    return _has_role(user, VIEWER_ROLES)


def can_assign_down(user) -> bool:
    return _has_role(user, ASSIGN_ROLES)


def can_request_transfer(user) -> bool:
    return _has_role(user, TRANSFER_ROLES)


def can_read_cases(user) -> bool:
    return _has_role(user, {str(role) for role in CASE_READER_ROLES})


def visible_peers_below(user):
    """The platforms below whose region lies within the user's unit's region."""
    peers = Peer.objects.filter(direction=PeerDirection.BELOW).order_by("region_code")
    return [peer for peer in peers if is_within(peer.region_code, user.unit.region_id)]


def get_peer_below_for_user(user, peer_id: int) -> Peer | None:
    return next((peer for peer in visible_peers_below(user) if peer.pk == peer_id), None)


def active_peers(direction: PeerDirection) -> list[Peer]:
    return list(Peer.objects.filter(direction=direction, is_active=True).order_by("region_code"))


def month_window(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of `YYYY-MM` in the centre's time zone."""
    year, number = parse_month(month)
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=zone)
    return start, end


def previous_month(month: str) -> str:
    year, number = parse_month(month)
    return month_of(year - 1, 12) if number == 1 else month_of(year, number - 1)


def count_month_figures(month: str) -> dict:
    """The figures of one month this county can compute now (a KPI engine may add more later).

    - `registered`: matters registered in the month; `by_status` (their status now), `by_type` (primary dispute
      type), `by_township`, `by_request_type` and `by_channel` break that number down;
    - `accepted`, `concluded`, `closed`: matters accepted, concluded (出结果) and closed in the month, whenever
      registered.
    """
    start, end = month_window(month)
    registered = Case.objects.filter(registered_at__gte=start, registered_at__lt=end)
    by_status = {row["status"]: row["n"] for row in registered.values("status").annotate(n=Count("id")).order_by()}
    by_type = {
        (row["primary_type__code"] or "unclassified"): {"name": row["primary_type__name"] or "未分类", "count": row["n"]}
        for row in registered.values("primary_type__code", "primary_type__name").annotate(n=Count("id")).order_by()
    }
    townships = {
        row["township"]: row["n"]
        for row in registered.annotate(township=Substr("region_id", 1, 9)).values("township")
        .annotate(n=Count("id")).order_by()
    }
    names = dict(Region.objects.filter(code__in=list(townships)).values_list("code", "name"))
    by_request_type = {
        row["request_type"]: row["n"] for row in registered.values("request_type").annotate(n=Count("id")).order_by()
    }
    by_channel = {
        row["channel__code"]: row["n"] for row in registered.values("channel__code").annotate(n=Count("id")).order_by()
    }
    return {
        "registered": sum(by_status.values()),
        "accepted": Case.objects.filter(accepted_at__gte=start, accepted_at__lt=end).count(),
        "concluded": Case.objects.filter(concluded_at__gte=start, concluded_at__lt=end).count(),
        "closed": Case.objects.filter(closed_at__gte=start, closed_at__lt=end).count(),
        "by_status": dict(sorted(by_status.items())),
        "by_type": dict(sorted(by_type.items())),
        "by_township": {code: {"name": names.get(code, code), "count": n} for code, n in sorted(townships.items())},
        "by_request_type": dict(sorted(by_request_type.items())),
        "by_channel": dict(sorted(by_channel.items())),
    }


def list_peer_rows(peers: list[Peer]) -> list[dict]:
    """Each platform below with its mirror's counts and its latest month of figures."""
    counts = {
        row["peer_id"]: row
        for row in ReportedCase.objects.filter(peer__in=peers).values("peer_id").annotate(
            total=Count("id"), open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            last_change=Max("changed_at"),
        ).order_by()
    }
    months = dict(
        ReportedFigures.objects.filter(peer__in=peers).values("peer_id").annotate(m=Max("month"))
        .order_by().values_list("peer_id", "m")
    )
    return [{"peer": peer, "total": counts.get(peer.pk, {}).get("total", 0),
             "open": counts.get(peer.pk, {}).get("open", 0), "last_month": months.get(peer.pk, "")}
            for peer in peers]


def list_reported_cases(peer: Peer, *, status: str = ""):
    cases = ReportedCase.objects.filter(peer=peer).order_by("-registered_at", "-id")
    return cases.filter(status=status) if status else cases


def list_reported_figures(peer: Peer) -> list[ReportedFigures]:
    return list(ReportedFigures.objects.filter(peer=peer).order_by("-month")[:24])


def list_recent_assignments(limit: int = 20):
    return DownwardAssignment.objects.select_related("peer", "source_peer").order_by("-created_at", "-id")[:limit]


def list_recent_transfers(limit: int = 20):
    return TransferRequest.objects.select_related("case", "peer").order_by("-requested_at", "-id")[:limit]


def count_outbox(kind: str = "linkage") -> dict[str, int]:
    return {row["status"]: row["n"] for row in OutboxMessage.objects.filter(kind=kind).values("status")
            .annotate(n=Count("id")).order_by()}


def case_exchange(case: Case) -> dict:
    """What this county exchanged with the platform above about one matter."""
    return {
        "origin": ReceivedAssignment.objects.filter(case=case).select_related("peer").first(),
        "transfer": TransferRequest.objects.filter(case=case).select_related("peer", "requested_by").first(),
        "exchange_messages": list(OutboxMessage.objects.filter(kind="linkage", subject_type="case", subject_id=case.code)
                         .order_by("created_at", "id")),
        "status_label": STATUS_LABELS[CaseStatus(case.status)],
    }


def case_page_link(case: Case, user) -> tuple[str, str] | None:
    """The matter page's link to its linkage page: a matter assigned from above or transferred, or one a user may
    ask to transfer while a platform above is configured."""
    from django.urls import reverse

    exchanged = (ReceivedAssignment.objects.filter(case=case).exists()
                 or TransferRequest.objects.filter(case=case).exists())
    may_transfer = (case.status == CaseStatus.REGISTERED and can_request_transfer(user)
                    and bool(active_peers(PeerDirection.ABOVE)))
    if exchanged or may_transfer:
        return "三级联动", reverse("linkage_case", args=[case.code])
    return None
