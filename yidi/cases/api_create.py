"""POST /api/v1/cases under load: the registrations one process receives together are written together.

A department system or the 12345 platform sends matters in bursts; written one by one, each registration holds the
code sequence and the audit chain to its own commit, and the server spends most of its time on round trips. With
`YIDI_API_GROUP_COMMIT` (the default) each request hands its draft to a `core.group_commit.GroupCommit`: the
drafts arriving while a batch is written form the next batch, registered by `cases.bulk.do_register_cases` in one
transaction per client and source address, with the same rows, listeners, audit and outbox messages as one by
one (each audit row records the address of its own request).

Each request gets exactly the answer the one-by-one path (`cases.api.create_case` → `respond_once`) gives it:
- 201 with the matter as the client reads it (`cases.api.with_detail`, read again after the batch is written, in
  its transaction);
- a draft the registration refuses raises its own error in its own request (400), and writes nothing;
- `Idempotency-Key`: the first answer is stored in the batch's transaction. A key already stored, or sent twice in
  one batch, goes the ordinary way (replay, or 422 for another body), after the batch commits;
- a batch that fails as a whole (a key stored concurrently by another process, a matter the client cannot read,
  a refused actor, any error) is rolled back and every request of it is done again alone, the ordinary way.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from yidi.accounts import access
from yidi.accounts.models import ApiClient, IdempotencyRecord
from yidi.cases.bulk import do_register_cases
from yidi.cases.domain import CaseDraft, InvalidInput, RuleViolation
from yidi.cases.models import Case
from yidi.core import clock
from yidi.core.group_commit import RETRY_ALONE, GroupCommit
from yidi.core.request_context import source_ip

logger = logging.getLogger("yidi.api")


@dataclass(frozen=True)
class PendingCreate:
    client: ApiClient
    draft: CaseDraft
    key: str | None  # Idempotency-Key, already checked for form
    fingerprint: str  # `accounts.actions.request_fingerprint` of the request
    source_ip: str | None  # recorded on the audit rows, as for a request written alone


class MatterNotShown(Exception):
    """A matter just registered that its client cannot read (the one-by-one path answers 404 and keeps nothing)."""


def _write(items: Sequence[PendingCreate]) -> list:
    """The outcome of each item, in order: (201, body), its refusal, or `RETRY_ALONE`."""
    groups: dict[tuple, list[int]] = {}
    for position, item in enumerate(items):  # each client as itself (its service account), from its address
        groups.setdefault((item.client.pk, item.source_ip), []).append(position)
    outcomes: list = [RETRY_ALONE] * len(items)
    for positions in groups.values():
        written = _write_group([items[position] for position in positions])
        for position, outcome in zip(positions, written, strict=True):
            outcomes[position] = outcome
    return outcomes


def _write_group(items: list[PendingCreate]) -> list:
    try:
        with source_ip(items[0].source_ip):
            return _register(items)
    except Exception:
        logger.info("API registrations: a batch of %s for client %s is done again one by one", len(items),
                    items[0].client.pk, exc_info=True)
        return [RETRY_ALONE] * len(items)


@transaction.atomic
def _register(items: list[PendingCreate]) -> list:
    from yidi.cases.api import as_detail_json, with_detail  # the API module imports this one

    client = items[0].client
    keys = [item.key for item in items if item.key]
    stored = set(IdempotencyRecord.objects.filter(client=client, key__in=keys).values_list("key", flat=True)
                 ) if keys else set()
    outcomes: list = [RETRY_ALONE] * len(items)
    batch, seen = [], set()
    for position, item in enumerate(items):
        if item.key and (item.key in stored or item.key in seen):
            continue  # a replay, a reused key, or the same key twice: alone, after this batch commits
        if item.key:
            seen.add(item.key)
        batch.append(position)
    results = do_register_cases([items[position].draft for position in batch], actor=client.user)
    registered = [result.pk for result in results if isinstance(result, Case)]
    shown = {case.pk: case for case in with_detail(access.visible_cases(client.user).filter(pk__in=registered))}
    now, records = clock.now(), []
    for position, result in zip(batch, results, strict=True):
        if isinstance(result, InvalidInput | RuleViolation):
            outcomes[position] = result
            continue
        if result.pk not in shown:
            raise MatterNotShown(result.code)
        body = as_detail_json(shown[result.pk], client)
        outcomes[position] = (201, body)
        item = items[position]
        if item.key:
            records.append(IdempotencyRecord(
                client=client, key=item.key, request_hash=item.fingerprint, status_code=201,
                response=json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False), created_at=now,
            ))
    IdempotencyRecord.objects.bulk_create(records)  # a key stored meanwhile by another process: all done alone
    return outcomes


registrations = GroupCommit(_write)
