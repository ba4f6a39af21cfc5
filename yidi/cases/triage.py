"""Triage on real matters: the engine (`yidi.triage.engine`, pure) fed with what the database knows.

- Duplicate candidates are found through indexes only: matters sharing a locality-sensitive key of the text
  (`CaseTextKey`), matters of the same person (ID-number or phone hash), and matters in the same place with
  the same dispute type; only matters the user may read, registered in the last `WINDOW_DAYS`.
- The engine ranks them with reasons; the registration form shows the suggestion, and the registration action
  keeps the suggestions the clerk did not overrule as `source="triage"` labels.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from yidi.accounts.access import visible_cases
from yidi.cases.models import Case, CaseParty, CaseTextKey, Person
from yidi.core.bulk import insert_values
from yidi.core.personal import lookup_hash
from yidi.triage.engine import Analysis, DuplicateCandidate, DuplicateMatch, TriageContext, analyse, lsh_keys

WINDOW_DAYS = 180
MAX_CANDIDATES = 200


@dataclass(frozen=True)
class PartyKeys:
    id_numbers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()

    def hashes(self) -> frozenset[str]:
        return frozenset(
            [lookup_hash(v, purpose="id_number") for v in self.id_numbers if v]
            + [lookup_hash(v, purpose="phone") for v in self.phones if v]
        )


@dataclass(frozen=True)
class TriageResult:
    analysis: Analysis
    duplicates: list[tuple[DuplicateMatch, Case]]


def _party_hashes_by_case(case_ids) -> dict[int, frozenset[str]]:
    keys: dict[int, set[str]] = {}
    for case_id, id_hash, phone_hash in CaseParty.objects.filter(case_id__in=case_ids).values_list(
        "case_id", "person__id_number_hash", "person__phone_hash"
    ):
        keys.setdefault(case_id, set()).update(h for h in (id_hash, phone_hash) if h)
    return {case_id: frozenset(values) for case_id, values in keys.items()}


def candidate_cases(user, *, text: str, party_keys: frozenset[str], region_code: str, dispute_type: str,
                    exclude_id: int | None = None) -> list[Case]:
    """Matters that may be the same one, found through indexes, limited to what `user` may read."""
    since = timezone.now() - timedelta(days=WINDOW_DAYS)
    ids: set[int] = set(
        CaseTextKey.objects.filter(key__in=lsh_keys(text)).values_list("case_id", flat=True)[:MAX_CANDIDATES]
    )
    if party_keys:
        people = Person.objects.filter(id_number_hash__in=party_keys) | Person.objects.filter(
            phone_hash__in=party_keys
        )
        ids.update(CaseParty.objects.filter(person__in=people).values_list("case_id", flat=True)[:MAX_CANDIDATES])
    if region_code and dispute_type:
        ids.update(
            Case.objects.filter(region_id=region_code, primary_type__code=dispute_type, registered_at__gte=since)
            .order_by("-registered_at").values_list("id", flat=True)[:50]
        )
    ids.discard(exclude_id)
    if not ids:
        return []
    return list(
        visible_cases(user).filter(pk__in=ids, registered_at__gte=since)
        .select_related("region", "primary_type").order_by("-registered_at")[:MAX_CANDIDATES]
    )


def triage_text(user, *, text: str, region_code: str = "", parties: PartyKeys = PartyKeys(),
                dispute_type: str = "", exclude_id: int | None = None) -> TriageResult:
    """The engine's analysis of `text`, with duplicates among the matters `user` may read."""
    party_keys = parties.hashes()
    cases = candidate_cases(user, text=text, party_keys=party_keys, region_code=region_code,
                            dispute_type=dispute_type, exclude_id=exclude_id)
    party_index = _party_hashes_by_case([case.pk for case in cases])
    candidates = tuple(
        DuplicateCandidate(
            id=case.pk, text=case.description, party_keys=party_index.get(case.pk, frozenset()),
            respondent_keys=frozenset(), place_code=case.region_id,
            registered_on=timezone.localtime(case.registered_at).date(),
        )
        for case in cases
    )
    context = TriageContext(
        county_code=region_code[:6] or None, reference_on=timezone.localdate(), party_keys=party_keys,
        place_code=region_code or None, candidates=candidates,
    )
    analysis = analyse(text, context=context)
    by_id = {case.pk: case for case in cases}
    return TriageResult(analysis=analysis, duplicates=[(m, by_id[m.id]) for m in analysis.duplicates if m.id in by_id])


def text_keys(text: str) -> list[str]:
    """The distinct keys a matter with this description is found by in the duplicate index."""
    return list(dict.fromkeys(lsh_keys(text)))


def index_case(case: Case) -> None:
    """Store the matter's text keys, so later matters find it as a candidate duplicate."""
    CaseTextKey.objects.bulk_create(
        [CaseTextKey(key=key, case=case) for key in text_keys(case.description)], ignore_conflicts=True,
    )


def index_new_cases(cases, *, text_keys: Callable[[str], list[str]] = text_keys) -> None:
    """Store the text keys of matters just registered (they have none yet) with one plain insert: a batch
    registration writes tens of keys per matter. `text_keys` may give keys computed elsewhere (`Triage`)."""
    insert_values(CaseTextKey, ("key", "case_id"), [
        (key, case.pk) for case in cases for key in text_keys(case.description)
    ])
