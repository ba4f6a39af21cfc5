"""Importing a 12345 export: every good row becomes a matter through `do_register_case` (triage included).

Rules:
- who imports: registrars and dispatchers of a region-wide unit (centre, command desk, township centre …); each
  matter must lie in the importer's region (`do_register_case` checks it) and the place names are looked up in
  the importer's county;
- a file-level problem (unreadable file, unknown encoding, missing mandatory columns, merged header cells) stops
  the import before any row is written: the run is recorded as failed with the message, nothing else changes;
- unlike the other actions this is not one transaction: rows go in batches (`YIDI_HOTLINE_BATCH_ROWS`, default
  500), each batch one transaction written by `yidi.cases.bulk` (a savepoint when called inside one). A row the
  registration refuses is rejected without spoiling its batch; a batch that fails as a whole is retried row by
  row, each row its own transaction, so the failing row is isolated and stops the run. A crash mid-file leaves
  every committed batch whole, and re-running the file imports only what is missing;
- triage of the next batch runs on a forked worker process (`YIDI_HOTLINE_TRIAGE_WORKERS`, default 1) while
  this process writes the current one: the engine is pure, so where it runs changes nothing but the time;
- idempotent on the ticket number: a ticket already imported (`ImportedTicket`, unique) or already registered by
  hand (a 12345 contact with that external number) is skipped and counted; re-running a file continues it;
- the rejected rows go to a rejects file (original columns + 行号 + 原因, personal data masked), stored with the
  run and, on the command line, written next to the input;
- one audit row when a run starts and one when it ends (each matter has its own from `do_register_case`).
"""

import contextlib
import hashlib
import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from yidi.accounts.domain import REGION_WIDE_KINDS, Role, UnitKind
from yidi.accounts.models import User
from yidi.audit.actions import record
from yidi.audit.models import AuditOutcome
from yidi.cases.actions import do_register_case, triage_context
from yidi.cases.bulk import Job, Triage, do_register_cases
from yidi.cases.domain import InvalidInput, RuleViolation
from yidi.cases.models import Case, Contact
from yidi.core import clock
from yidi.core.bulk import large_page_cache
from yidi.hotline import files
from yidi.hotline.domain import (
    CHANNEL_CODE,
    DEFAULT_MAPPING,
    FileError,
    Mapping,
    Place,
    RegionLookup,
    RowError,
    TicketDraft,
    match_columns,
    parse_row,
)
from yidi.hotline.models import ImportedTicket, ImportRun, ImportStatus
from yidi.regions.models import Region
from yidi.triage.engine import TriageContext, analyse

logger = logging.getLogger("yidi.hotline")
IMPORT_ROLES = frozenset({Role.REGISTRAR, Role.DISPATCHER})
Progress = Callable[[int, int], None]  # (rows done, rows in all)


def can_import(user) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.unit_id
        and user.role_set & IMPORT_ROLES and UnitKind(user.unit.kind) in REGION_WIDE_KINDS
    )


class ImportDenied(Exception):
    """The account may not import (message in Chinese)."""


@dataclass(frozen=True)
class ImportResult:
    run: ImportRun
    rejects_path: Path | None = None
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.run.done / self.seconds if self.seconds else 0.0


def region_lookup_for(unit) -> RegionLookup:
    """The townships and villages of the importer's county."""
    county_code = unit.region_id[:6]
    county = Region.objects.filter(code=county_code).first()
    if len(unit.region_id) < 6 or county is None:
        raise FileError(f"导入单位“{unit.name}”不在县级或以下辖区，无法按乡镇名称定位")
    places = [
        Place(code=code, name=name, level=level, parent_code=parent_id or "")
        for code, name, level, parent_id in Region.objects.within(county_code)
        .filter(level__in=["township", "village"], is_active=True)
        .values_list("code", "short_name", "level", "parent_id")
    ]
    return RegionLookup(county.name, places)


def _audit(run: ImportRun, action: str, *, outcome: str = AuditOutcome.SUCCESS) -> None:
    record(actor=run.created_by, action=f"hotline.{action}", object_type="hotline_import", object_id=run.pk,
           outcome=outcome, reason=run.error, data={
               "file": run.file_name, "sha256": run.sha256, "total": run.total, "imported": run.imported,
               "skipped": run.skipped, "rejected": run.rejected, "status": run.status,
           })


def _new_run(file_name: str, data: bytes, *, actor, status: str) -> ImportRun:
    if not can_import(actor):
        raise ImportDenied(f"账号“{actor.get_username()}”无权导入：须为辖区单位的登记员或调度员")
    return ImportRun(
        file_name=file_name[:200], sha256=hashlib.sha256(data).hexdigest(), unit=actor.unit, created_by=actor,
        status=status, started_at=clock.now(),
    )


def _is_known(ticket_number: str) -> bool:
    return (
        ImportedTicket.objects.filter(ticket_number=ticket_number).exists()
        or Contact.objects.filter(external_ref=ticket_number, channel__code=CHANNEL_CODE).exists()
    )


def _known_tickets(numbers: list[str]) -> set[str]:
    """The ticket numbers among `numbers` imported before or registered by hand from the hotline."""
    return set(ImportedTicket.objects.filter(ticket_number__in=numbers).values_list("ticket_number", flat=True)) | set(
        Contact.objects.filter(external_ref__in=numbers, channel__code=CHANNEL_CODE)
        .values_list("external_ref", flat=True)
    )


def _import_ticket(ticket: TicketDraft, *, run: ImportRun, actor, row_number: int) -> bool:
    """Register one ticket in its own transaction; False when it was imported before (now or concurrently)."""
    if _is_known(ticket.ticket_number):
        return False
    with transaction.atomic():
        try:
            with transaction.atomic():
                claimed = ImportedTicket.objects.create(
                    ticket_number=ticket.ticket_number, run=run, called_at=ticket.called_at,
                    handling_unit=ticket.handling_unit[:100], row_number=row_number,
                )
        except IntegrityError:  # another import took the ticket between the look-up and the insert
            return False
        claimed.case = do_register_case(ticket.case, actor=actor)
        claimed.save(update_fields=["case"])
    return True


def _save_counts(run: ImportRun) -> None:
    ImportRun.objects.filter(pk=run.pk).update(
        total=run.total, done=run.done, imported=run.imported, skipped=run.skipped, rejected=run.rejected,
        status=run.status,
    )


@dataclass
class _Batch:
    """The outcome of one batch, applied to the run's counts once the batch has committed."""

    imported: int = 0
    skipped: int = 0
    rejects: list[tuple[int, list, str]] = field(default_factory=list)


Row = tuple[int, list, TicketDraft | RowError]  # (line number, cell values, parsed row)


def _import_batch(rows: list[Row], *, run: ImportRun, actor, triage: Triage) -> _Batch:
    """Register the batch's new tickets in one transaction (`yidi.cases.bulk`); a row the registration refuses
    goes to the rejects without spoiling the others. Any other error undoes the batch and is raised."""
    outcome = _Batch()
    with transaction.atomic():
        known = _known_tickets([parsed.ticket_number for _, _, parsed in rows if isinstance(parsed, TicketDraft)])
        fresh: list[tuple[int, list, TicketDraft]] = []
        for number, values, parsed in rows:
            if isinstance(parsed, RowError):
                outcome.rejects.append((number, values, parsed.reason))
            elif parsed.ticket_number in known:
                outcome.skipped += 1
            else:
                known.add(parsed.ticket_number)  # a ticket twice in one file is imported once
                fresh.append((number, values, parsed))
        results = do_register_cases([ticket.case for _, _, ticket in fresh], actor=actor, triage=triage)
        claimed = []
        for (number, values, ticket), result in zip(fresh, results, strict=True):
            if isinstance(result, Case):
                claimed.append(ImportedTicket(
                    ticket_number=ticket.ticket_number, run=run, case=result, called_at=ticket.called_at,
                    handling_unit=ticket.handling_unit[:100], row_number=number,
                ))
            else:
                outcome.rejects.append((number, values, str(result)))
        ImportedTicket.objects.bulk_create(claimed)  # a ticket imported concurrently fails here: batch undone
        outcome.imported = len(claimed)
    outcome.rejects.sort(key=lambda reject: reject[0])
    return outcome


def _import_rows(rows: list[Row], *, run: ImportRun, actor, rejects: list) -> None:
    """The batch again, row by row (each in its own transaction), after the batch as a whole failed: the rows
    before a failing one are kept and counted; the failing one stops the run (failed, with its line)."""
    for number, values, parsed in rows:
        try:
            if isinstance(parsed, RowError):
                raise InvalidInput("row", parsed.reason)
            if _import_ticket(parsed, run=run, actor=actor, row_number=number):
                run.imported += 1
            else:
                run.skipped += 1
        except (InvalidInput, RuleViolation) as error:
            rejects.append((number, values, str(error)))
            run.rejected += 1
        except Exception:
            run.status, run.finished_at = ImportStatus.FAILED, clock.now()
            run.error = f"导入在第 {number} 行中断（系统错误）。已导入的行完整保留，重新导入同一文件即可继续"
            _save_counts(run)
            ImportRun.objects.filter(pk=run.pk).update(error=run.error, finished_at=run.finished_at)
            raise
        run.done += 1


def _count(run: ImportRun, outcome: _Batch, rows: int, rejects: list) -> None:
    run.imported += outcome.imported
    run.skipped += outcome.skipped
    run.rejected += len(outcome.rejects)
    run.done += rows
    rejects.extend(outcome.rejects)


def batch_rows() -> int:
    return max(1, int(getattr(settings, "YIDI_HOTLINE_BATCH_ROWS", 500)))


def triage_workers() -> int:
    return max(0, int(getattr(settings, "YIDI_HOTLINE_TRIAGE_WORKERS", 1)))


@contextlib.contextmanager
def _triage():
    """A `Triage` for the run: with `YIDI_HOTLINE_TRIAGE_WORKERS` ≥ 1 (default 1) its pool of processes
    analyses the next batch while this process writes the current one; 0 analyses here, batch by batch. The
    workers are forked after the engine's models are loaded, so they use the same models."""
    workers = triage_workers()
    if workers < 1:
        yield Triage()
        return
    analyse("邻里纠纷", context=TriageContext())  # load the models before the fork
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    try:
        yield Triage(pool, workers=workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _triage_jobs(rows: list[Row], *, now) -> list[Job]:
    """The analyses the registration of `rows` will ask for, as far as can be told before it: the rows not
    imported yet (a guess: the registration decides)."""
    drafts = [parsed for _, _, parsed in rows if isinstance(parsed, TicketDraft)]
    known = _known_tickets([draft.ticket_number for draft in drafts])
    return [(draft.case.description, triage_context(draft.case.region_code, now=now))
            for draft in drafts if draft.ticket_number not in known]


def _execute(run: ImportRun, data: bytes, *, actor, mapping: Mapping, progress: Progress | None) -> bytes:
    """Run the import of `data` for a saved `run`; returns the rejects file (empty when none).

    Rows go in batches of `YIDI_HOTLINE_BATCH_ROWS`, each batch one transaction. A batch that fails as a whole
    (not a refused row: a database error, a concurrent import of the same ticket) is retried row by row, so the
    failing row is isolated: an error there stops the run (failed, with the line), every committed row kept.
    `FileError` is recorded on the run (failed, nothing imported) and raised again.
    """
    try:
        table = files.read_table(data, run.file_name, mapping)
        columns = match_columns(table.header, mapping)
        lookup = region_lookup_for(actor.unit)
    except FileError as error:
        run.status, run.error, run.finished_at = ImportStatus.FAILED, str(error), clock.now()
        with transaction.atomic():
            run.save(update_fields=["status", "error", "finished_at"])
            _audit(run, "import_finish", outcome=AuditOutcome.FAILED)
        raise
    run.status, run.total = ImportStatus.RUNNING, len(table.rows)
    _save_counts(run)
    if progress:
        progress(0, run.total)
    now = clock.now()
    size = batch_rows()
    rejects: list[tuple[int, list, str]] = []
    def parsed(start: int) -> list[Row]:
        rows = []
        for number, values in table.rows[start:start + size]:
            row = {name: values[index] for name, index in columns.items()}
            rows.append((number, values, parse_row(row, mapping, lookup, now=now)))
        return rows

    with _triage() as triage, large_page_cache():
        def ahead(rows: list[Row]) -> list[Row]:  # analysed on the pool while the batch before is written
            if triage.pool is not None:
                triage.start(_triage_jobs(rows, now=clock.now()))
            return rows

        upcoming = ahead(parsed(0))
        for start in range(0, len(table.rows), size):
            rows = upcoming
            if start + size < len(table.rows):
                upcoming = ahead(parsed(start + size))
            try:
                outcome = _import_batch(rows, run=run, actor=actor, triage=triage)
            except Exception:
                logger.exception("12345 import %s: batch from line %s failed, retried row by row", run.pk, rows[0][0])
                _import_rows(rows, run=run, actor=actor, rejects=rejects)
            else:
                _count(run, outcome, len(rows), rejects)
            _save_counts(run)
            if progress:
                progress(run.done, run.total)
    content = files.rejects_csv(table.header, rejects, columns) if rejects else b""
    with transaction.atomic():
        run.status, run.finished_at = ImportStatus.FINISHED, clock.now()
        if content:
            run.rejects_file.save(f"{Path(run.file_name).stem}-未导入行.csv", ContentFile(content), save=False)
        run.save()
        _audit(run, "import_finish")
    return content


def do_import_hotline(path: str | Path, *, actor, mapping: Mapping | None = None, progress: Progress | None = None,
                      rejects_path: str | Path | None = None) -> ImportResult:
    """Import a 12345 export from a file on disk (the command line); the rejects go next to it or to
    `rejects_path`. Raises `FileError` (nothing imported) or `ImportDenied`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FileError(f"无法读取文件“{path}”：{error.strerror}") from None
    run = _new_run(path.name, data, actor=actor, status=ImportStatus.RUNNING)
    with transaction.atomic():
        run.save()
        _audit(run, "import_start")
    started = time.perf_counter()
    content = _execute(run, data, actor=actor, mapping=mapping or DEFAULT_MAPPING, progress=progress)
    seconds = time.perf_counter() - started
    written = None
    if content:
        written = Path(rejects_path) if rejects_path else path.with_name(f"{path.stem}.rejects.csv")
        written.write_bytes(content)
    return ImportResult(run=run, rejects_path=written, seconds=seconds)


ALLOWED_SUFFIXES = (".xlsx", ".csv")


@transaction.atomic
def do_start_hotline_import(upload, *, actor, max_bytes: int) -> ImportRun:
    """Keep an uploaded export and queue its import (a background task, started after the commit).

    Refuses (`InvalidInput` on "file") a file that is too large, of another kind, or that fails the file checks a
    run would fail at once (kind, encoding, columns): those never become runs.
    """
    name = (upload.name or "").rsplit("/", 1)[-1]
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise InvalidInput("file", f"仅接受 {files.ACCEPTED}")
    if upload.size is not None and upload.size > max_bytes:
        raise InvalidInput("file", f"文件过大：上限为 {max_bytes // (1024 * 1024)} MB")
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidInput("file", f"文件过大：上限为 {max_bytes // (1024 * 1024)} MB")
    try:
        match_columns(files.read_table(data, name, DEFAULT_MAPPING).header, DEFAULT_MAPPING)
    except FileError as error:
        raise InvalidInput("file", str(error)) from None
    try:
        run = _new_run(name, data, actor=actor, status=ImportStatus.QUEUED)
    except ImportDenied as error:
        raise InvalidInput("file", str(error)) from None
    run.source_file.save(name, ContentFile(data), save=False)
    run.save()
    _audit(run, "import_start")

    def enqueue():
        from yidi.hotline.tasks import import_hotline_task

        import_hotline_task.enqueue(run.pk)

    transaction.on_commit(enqueue)
    return run


def do_run_hotline_import(run_id: int) -> ImportRun | None:
    """The background task's work: claim a queued run (once, however often the task is delivered) and import it."""
    claimed = ImportRun.objects.filter(pk=run_id, status=ImportStatus.QUEUED).update(status=ImportStatus.RUNNING)
    if not claimed:
        return None
    run = ImportRun.objects.select_related("created_by__unit").get(pk=run_id)
    with run.source_file.open("rb") as handle:
        data = handle.read()
    with contextlib.suppress(FileError):  # recorded on the run
        _execute(run, data, actor=run.created_by, mapping=DEFAULT_MAPPING, progress=None)
    return run


def default_importer() -> User:
    """The account `yidi import hotline` acts as without `--as`: the first active dispatcher of the county
    centre (a centre or command desk at county level). `ImportDenied` when there is none."""
    user = (
        User.objects.filter(
            is_active=True, roles__role=Role.DISPATCHER, unit__kind__in=[UnitKind.CENTRE, UnitKind.COMMAND_DESK],
            unit__region__level="county",
        ).select_related("unit").order_by("id").first()
    )
    if user is None:
        raise ImportDenied("找不到县级矛调中心的在用调度员账号，请用 --as 指定导入人（登记员或调度员）")
    return user


def find_importer(username: str) -> User:
    user = User.objects.filter(username=username).select_related("unit").first()
    if user is None or not can_import(user):
        raise ImportDenied(f"账号“{username}”不存在、已停用，或不是辖区单位的登记员或调度员，不能导入")
    return user


@transaction.atomic
def do_download_rejects(run: ImportRun, *, actor) -> tuple[bytes, str]:
    """The run's rejects file (masked) and its name; audited."""
    with run.rejects_file.open("rb") as handle:
        content = handle.read()
    record(actor=actor, action="hotline.download_rejects", object_type="hotline_import", object_id=run.pk,
           data={"rows": run.rejected, "masked": True})
    return content, f"{Path(run.file_name).stem}-未导入行.csv"

