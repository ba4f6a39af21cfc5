"""The deadline sweep (issue 4): ≥ 2,000 due items/s over 100,000 open matters of which 10,000 are due,
and an idle sweep (nothing due) ≤ 20 ms at 1,000,000 matters.

Run: `python bench/bench_sweep.py [--postgres]`. On PostgreSQL the busy sweep is measured twice: one worker,
then two worker processes at once on the same due rows reset (what running two `yidi worker` processes does:
`SKIP LOCKED` splits the batches between them; SQLite serialises writers, so it gets one figure). The matters are clones of one matter driven through the real
actions (registered, accepted, assigned, signed, in progress), copied in bulk by SQL; their handling clocks
are due one day ago (the due ones) or in a month. The floor of the busy sweep is one plain SQL UPDATE that
moves `next_deadline_at` on the same due rows: the least any sweep must write.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from harness import figure, median_seconds, print_table, setup_django

OPEN = 100_000
DUE = 10_000
IDLE_TOTAL = 1_000_000


def _series(count: int) -> str:
    return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {int(count)})"


def _template_case():
    from yidi.accounts.domain import Role, UnitKind
    from yidi.cases import actions
    from yidi.cases.builders import make_case, make_unit, make_user
    from yidi.regions.loader import load_county

    load_county("330681")
    centre = make_unit(
        "centre", kind=UnitKind.CENTRE, region_code="330681", name="诸暨市社会矛盾纠纷调处化解中心"
    )
    command = make_unit("command", kind=UnitKind.COMMAND_DESK, region_code="330681", name="指挥调度室")
    platform = make_unit(
        "fq-platform",
        kind=UnitKind.TOWNSHIP_PLATFORM,
        region_code="330681109",
        name="枫桥镇综治工作平台",
        platform_type_code="comprehensive_governance",
    )
    registrar = make_user("registrar", Role.REGISTRAR, unit=centre)
    dispatcher = make_user("dispatcher", Role.DISPATCHER, unit=command)
    handler = make_user("handler", Role.HANDLER, unit=platform)
    case = make_case(registrar, complexity="complex")
    actions.do_accept_case(case.code, actor=dispatcher)
    actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform")
    actions.do_sign_case(case.code, actor=handler)
    return actions.do_start_handling(case.code, actor=handler, mode="mediation")


def _clone(template, *, count: int, due: int, prefix: str, now) -> None:
    """Copy the template matter `count` times with one running handling clock each; the first `due` are due."""
    from django.db import connection, transaction

    from yidi.cases.models import Case

    columns = [
        f.column for f in Case._meta.concrete_fields if f.column not in ("id", "code", "next_deadline_at")
    ]
    past, future = now - timedelta(days=1), now + timedelta(days=30)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"{_series(count)} INSERT INTO cases_case (code, next_deadline_at, {', '.join(columns)}) "
            f"SELECT %s || CAST(n AS TEXT), CASE WHEN n <= %s THEN %s ELSE %s END, {', '.join('t.' + c for c in columns)} "
            f"FROM s, cases_case t WHERE t.id = %s",
            [prefix, due, past, future, template.pk],
        )
        cursor.execute(
            "INSERT INTO cases_casedeadline (case_id, stage, policy_code, day_unit, limit_days, started_at, due_at, "
            "yellow_at, red_at, extension_days, pauses, state, applied, met_at, cancelled_at) "
            "SELECT c.id, 'handle', 'people_mediation', 'calendar_days', 30, %s, c.next_deadline_at, "
            "c.next_deadline_at, c.next_deadline_at, 0, '[]', 'green', '[]', NULL, NULL "
            "FROM cases_case c WHERE c.code LIKE %s",
            [now - timedelta(days=31), prefix + "%"],
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would after a bulk load: the planner needs counts
            cursor.execute("ANALYZE cases_case")
            cursor.execute("ANALYZE cases_casedeadline")


def _reset_due(prefix: str, due: int, now) -> None:
    """Make the same `due` matters due again with fresh clocks (the effects already written stay)."""
    from django.db import connection, transaction

    past = now - timedelta(days=1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case SET next_deadline_at = %s WHERE code LIKE %s AND next_deadline_at > %s "
            "AND id IN (SELECT id FROM cases_case WHERE code LIKE %s ORDER BY id LIMIT %s)",
            [past, prefix + "%", now, prefix + "%", due],
        )
        cursor.execute(
            "UPDATE cases_casedeadline SET applied = '[]', state = 'green' WHERE case_id IN "
            "(SELECT id FROM cases_case WHERE next_deadline_at <= %s)",
            [now],
        )


def _sweep_in_processes(workers: int, now) -> float:
    """Seconds for `workers` forked processes, each running the sweep, to finish together."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connection
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    processes = [context.Process(target=_sweep_child, args=(now,)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    if any(process.exitcode != 0 for process in processes):
        raise RuntimeError("a sweep worker failed")
    return elapsed


def _sweep_child(now) -> None:
    from yidi.workflow.jobs import sweep_deadlines

    sweep_deadlines(now=now)


def run(vendor: str = "sqlite") -> list[dict]:
    setup_django(vendor)
    from django.db import connection, transaction
    from django.utils import timezone

    from yidi.cases.models import Case
    from yidi.workflow.jobs import sweep_deadlines

    now = timezone.now().replace(microsecond=0)
    template = _template_case()
    _clone(template, count=OPEN, due=DUE, prefix="B-", now=now)
    due_ids = list(Case.objects.filter(next_deadline_at__lte=now).values_list("id", flat=True))
    assert len(due_ids) == DUE, len(due_ids)

    def plain_update():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_case SET next_deadline_at = next_deadline_at WHERE next_deadline_at <= %s",
                [now],
            )

    floor_seconds = median_seconds(plain_update, repeat=3)

    started = time.perf_counter()
    result = sweep_deadlines(now=now)
    busy_seconds = time.perf_counter() - started
    assert result.processed == DUE and result.failures == 0, result
    again = sweep_deadlines(now=now)
    assert again.processed == 0 and again.effects == 0, again
    parallel = []
    if vendor == "postgres":
        _reset_due("B-", DUE, now)
        assert Case.objects.filter(next_deadline_at__lte=now).count() == DUE
        two_seconds = _sweep_in_processes(2, now)
        assert not Case.objects.filter(next_deadline_at__lte=now).exists()
        parallel.append(figure(
            f"sweep: due items/s, two worker processes ({vendor})",
            DUE / two_seconds,
            "items/s",
            floor=DUE / floor_seconds,
            target="≥ 2,000",
        ))

    _clone(template, count=IDLE_TOTAL - OPEN, due=0, prefix="I-", now=now)
    total = Case.objects.count()
    idle_seconds = median_seconds(lambda: sweep_deadlines(now=now), repeat=20)
    return [
        figure(
            f"sweep: due items/s ({DUE:,} due of {OPEN:,} open, {vendor}, one worker)",
            DUE / busy_seconds,
            "items/s",
            floor=DUE / floor_seconds,
            target="≥ 2,000",
        ),
        figure(
            f"sweep: effects written ({result.effects:,}) per second",
            result.effects / busy_seconds,
            "effects/s",
        ),
        *parallel,
        figure(
            f"idle sweep at {total:,} matters ({vendor}), median of 20",
            idle_seconds * 1000,
            "ms",
            target="≤ 20 ms",
            higher_is_better=False,
        ),
    ]


if __name__ == "__main__":
    print_table(run("postgres" if "--postgres" in sys.argv else "sqlite"))
