"""What the Open311 endpoints read: the services (人民调解 dispute types) and the public view of the matters that
arrived through Open311.

Only matters of the `open311` channel are ever listed or shown: the facade answers for what was posted to it,
never for matters of other channels. The rendering (`views._public_request`) keeps personal data out.
"""

from datetime import datetime

from yidi.cases.domain import OPEN_STATUSES
from yidi.cases.models import Case
from yidi.core.models import TaxonomyLabel
from yidi.open311.domain import CHANNEL_CODE, MAX_REQUEST_IDS, MAX_REQUESTS

SERVICE_TAXONOMY = "mediation_type"


def list_services() -> list[TaxonomyLabel]:
    return list(
        TaxonomyLabel.objects.filter(taxonomy__code=SERVICE_TAXONOMY, taxonomy__is_active=True, is_active=True)
        .select_related("taxonomy").order_by("position", "code")
    )


def get_service(code: str) -> TaxonomyLabel | None:
    return TaxonomyLabel.objects.filter(
        taxonomy__code=SERVICE_TAXONOMY, taxonomy__is_active=True, is_active=True, code=code
    ).select_related("taxonomy").first()


def _open311_cases():
    return Case.objects.filter(channel__code=CHANNEL_CODE).select_related("region", "lead_unit", "primary_type")


def list_requests(*, request_ids: tuple[str, ...] = (), service_codes: tuple[str, ...] = (),
                  start: datetime | None = None, end: datetime | None = None,
                  statuses: tuple[str, ...] = ()) -> list[Case]:
    """The newest 1000 Open311 matters. Rules (the spec):
    - `request_ids` given: exactly those (at most 100), every other filter ignored;
    - otherwise registered within [start, end], of the given services and open/closed statuses.
    """
    cases = _open311_cases()
    if request_ids:
        return list(cases.filter(code__in=request_ids[:MAX_REQUEST_IDS]).order_by("-registered_at", "-id"))
    cases = cases.filter(registered_at__gte=start, registered_at__lte=end)
    if service_codes:
        cases = cases.filter(primary_type__taxonomy__code=SERVICE_TAXONOMY, primary_type__code__in=service_codes)
    if set(statuses) == {"open"}:
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif set(statuses) == {"closed"}:
        cases = cases.exclude(status__in=OPEN_STATUSES)
    return list(cases.order_by("-registered_at", "-id")[:MAX_REQUESTS])


def get_request(code: str) -> Case | None:
    return _open311_cases().filter(code=code).first()
