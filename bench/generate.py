"""Fill a database with a realistic county's matters at scale, for the benchmarks and the query-health checks.

    python bench/generate.py --matters 1000000 --county 330681 [--database-url URL] [--seed 1] [--years 3]

How: real matters first, then copies of them in bulk.
1. Templates. If the database holds no matters yet, the demonstration county's organisation is built and
   `--templates` matters (default 400) are driven through the real actions (`yidi.cases.demo.Seeder`): every
   lifecycle the demo knows, with its events, assignments, deadlines, labels, contacts, visits and evaluations.
   A database that already holds matters (e.g. after `make demo`) uses those as templates.
2. People. A pool of persons (60 % of the matters) with real encrypted personal fields and their look-up hashes,
   written with `bulk_create`; parties of the copies are drawn from it, so some people come back, as they do.
3. Copies. Each copy takes a template, a date over the last `--years` years (more wage-arrears matters in the
   month before each Spring Festival) and a code of its year; every row of the template's matter (the matter,
   parties, contacts, visits, assignments, events, deadlines, labels, urgings, extensions, transfers, routing
   records, evaluations, return visits) is copied by one `INSERT … SELECT` per table and batch, its dates shifted
   by whole weeks (so working days stay working days) and a village group and house number drawn for its address
   (so the copies of a template are not all at one place, which would make every village a group-incident site).
   Copies dated more than 120 days back come only from
   finished templates (closed, archived, not accepted …) and end before today, so the old years are not left open;
   recent copies come from templates of about the same age, so open matters stay realistically open. A
   finished template is closed (not merely evaluated or visited) and has no return visit still scheduled, so the
   old years hold no forgotten visits or matters waiting to be closed.
Deterministic for a seed, a template set and an end date. Not copied: attachments, mediation files, messages,
the duplicate-detection keys (`CaseTextKey`: copies share their template's text, so copying its keys would make
every copy a "duplicate" of 600 others) and audit rows (a bulk load of history is one audit row, written at the end).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 50_000
RECENT_DAYS = 120
# A template is finished when nothing about it is still to do: the matter is closed (evaluated and return-visited
# matters still wait for the command desk to close them) and no return visit or follow-up is still scheduled.
FINISHED = ("closed", "archived", "not_accepted")
SPRING_FESTIVALS = [date(2022, 2, 1), date(2023, 1, 22), date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17),
                    date(2027, 2, 6), date(2028, 1, 26)]
# (app label, model name) of the rows copied with each matter; a foreign key to the matter, to a person, or to a
# row of the same table is rewritten; every other column is copied (dates shifted).
COPIED = [("cases", "CaseParty"), ("cases", "CaseLabel"), ("cases", "Contact"), ("cases", "Visit"),
          ("cases", "Assignment"), ("cases", "CaseEvent"), ("cases", "CaseDeadline"), ("cases", "Urging"),
          ("cases", "ExtensionRequest"), ("cases", "Transfer"), ("cases", "RoutingRecord"),
          ("evaluation", "Evaluation"), ("evaluation", "ReturnVisit")]


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def setup(database_url: str | None) -> None:
    os.environ.setdefault("YIDI_ALLOW_INSECURE_KEY", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "yidi.settings"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_templates(county: str, count: int, seed: int, until: date) -> None:
    from django.db import transaction

    from yidi.cases import demo
    from yidi.cases.models import Case
    from yidi.integrations.actions import muted
    from yidi.regions.loader import load_county

    if Case.objects.exists():
        _say(f"using the {Case.objects.count()} matters already in the database as templates")
        return
    if county != demo.COUNTY:
        raise SystemExit(f"templates can be built only for the demonstration county {demo.COUNTY}; load matters "
                         f"of {county} first and run again")
    load_county(county)
    _say(f"building the organisation and {count} template matters through the real actions …")
    with transaction.atomic(), muted():
        demo.build_organisation()
        seeder = demo.Seeder(seed=seed, until=until, matters=count)
        demo.build_mediators(seeder.rng)
        seeder.run()


class Plan:
    """Which template each copy takes, its shift in days, its code and its people (pure Python, deterministic)."""

    def __init__(self, *, matters: int, years: int, seed: int, until: date, pool: int):
        from django.db.models import Max

        from yidi.cases.models import Case
        from yidi.evaluation.domain import VisitStatus
        from yidi.evaluation.models import ReturnVisit

        self.rng = random.Random(seed)
        self.until = until
        self.pool = pool
        templates = list(Case.objects.annotate(last=Max("events__at")).values_list(
            "id", "registered_at", "status", "last", "primary_type__code"))
        if not templates:
            raise SystemExit("no template matters")
        local = [(pk, registered.date(), status, (last or registered).date(), kind)
                 for pk, registered, status, last, kind in templates]
        pending = set(ReturnVisit.objects.filter(status=VisitStatus.SCHEDULED).values_list("case_id", flat=True))
        self.finished = [t for t in local if t[2] in FINISHED and t[0] not in pending]
        self.wage = [t for t in self.finished if t[4] == "labour"] or self.finished
        self.by_week: dict[int, list] = {}
        for t in local:
            self.by_week.setdefault((until - t[1]).days // 7, []).append(t)
        self.matters, self.years = matters, years
        self.county = Case.objects.values_list("code", flat=True).first().split("-")[0]
        self.next_seq = self._sequences()

    def _sequences(self) -> Counter:
        """The last number of each year's code sequence of the county (copies continue them)."""
        from yidi.core.models import CodeSequence

        return Counter(dict(CodeSequence.objects.filter(prefix=self.county).values_list("year", "last_value")))

    def rows(self):
        """(n, template id, shift in days, code, person base, house) for each copy, in date order."""
        from yidi.core.codes import format_case_code

        span = 365 * self.years
        dates = sorted(self.until - timedelta(days=self.rng.randrange(0, span)) for _ in range(self.matters))
        for n, day in enumerate(dates):
            template = self._template(day)
            if template is None:
                continue
            shift = ((day - template[1]).days // 7) * 7
            if (self.until - day).days <= RECENT_DAYS:
                shift = min(shift, 0)  # a recent template's steps reach today: never move them later
            year = (template[1] + timedelta(days=shift)).year
            self.next_seq[year] += 1
            # a skewed draw: a tenth of the people account for a third of the parties (repeat callers)
            base = self.rng.randrange(self.pool // 10) if self.rng.random() < 0.33 else self.rng.randrange(self.pool)
            # the place within the template's village or site: a village group (组) and house number
            house = f"{self.rng.randint(1, HOUSE_GROUPS)}组{self.rng.randint(1, HOUSES_PER_GROUP)}号"
            yield n, template[0], shift, format_case_code(self.county, year, self.next_seq[year]), base, house

    def _template(self, day: date):
        age = (self.until - day).days
        if age <= RECENT_DAYS:
            for width in range(0, 8):
                near = [t for w in range(age // 7 - width, age // 7 + width + 1) for t in self.by_week.get(w, [])]
                if near:
                    return self.rng.choice(near)
            return None
        before_festival = any(0 <= (festival - day).days <= 30 for festival in SPRING_FESTIVALS)
        choices = self.wage if before_festival and self.rng.random() < 0.3 else self.finished
        for _ in range(10):
            template = self.rng.choice(choices)
            shift = (day - template[1]).days // 7 * 7
            if template[3] + timedelta(days=shift) < self.until:  # its last step (archiving …) is in the past
                return template
        return None


def build_pool(size: int, seed: int) -> None:
    """`size` persons with encrypted fields and look-up hashes; their ids in `bench_person_pool` (n → id)."""
    from django.db import connection
    from django.utils import timezone

    from yidi.cases import demo
    from yidi.cases.models import Person
    from yidi.core.personal import lookup_hash

    rng = random.Random(seed + 1)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_person_pool")
        cursor.execute("CREATE TABLE bench_person_pool (n integer PRIMARY KEY, person_id bigint NOT NULL)")
    now = timezone.now()
    n = 0
    while n < size:
        people = []
        for _ in range(min(5_000, size - n)):
            company = rng.random() < 0.15
            name = (rng.choice(demo.SURNAMES) + "某" + rng.choice(demo.COMPANIES)) if company else demo.person_name(rng)
            phone, id_number = demo.mobile(rng), "" if company else demo.id_number(rng)
            people.append(Person(
                kind="legal" if company else "natural", name=name, phone=phone, id_number=id_number,
                address=f"诸暨市{rng.randrange(1, 300)}号", created_at=now,
                id_number_hash=lookup_hash(id_number, purpose="id_number") if id_number else "",
                phone_hash=lookup_hash(phone, purpose="phone"),
                name_phone_hash=lookup_hash(f"{name}|{phone}", purpose="name_phone"),
            ))
        created = Person.objects.bulk_create(people)
        if created[0].pk is None:  # a backend that does not return ids: take the newest rows
            ids = list(Person.objects.order_by("-id").values_list("id", flat=True)[: len(people)])[::-1]
        else:
            ids = [person.pk for person in created]
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_person_pool (n, person_id) VALUES (%s, %s)",
                               [(n + index, pk) for index, pk in enumerate(ids)])
        n += len(people)
        _say(f"  persons {n:,}/{size:,}")


def _shift(vendor: str, field, column: str) -> str:
    from django.db import models

    if isinstance(field, models.DateTimeField):
        if vendor == "postgresql":
            return f"t.{column} + m.shift_days * interval '1 day'"
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', t.{column}, printf('%%+d days', m.shift_days))"
    if vendor == "postgresql":
        return f"t.{column} + m.shift_days"
    return f"date(t.{column}, printf('%%+d days', m.shift_days))"


# A copy's address is its template's village or site with a village group and house number drawn for it: copies of
# one template are not all at one place (which would make every busy village a group-incident site).
HOUSE_GROUPS, HOUSES_PER_GROUP = 20, 150


def _copy_sql(model, vendor: str, pool: int) -> str:
    from django.db import models

    from yidi.cases.models import Case, Person

    table = model._meta.db_table
    columns, values, joins = [], [], ""
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        column = field.column
        columns.append(column)
        if isinstance(field, models.ForeignKey) and field.related_model is Case:
            values.append("m.new_id")
        elif isinstance(field, models.ForeignKey) and field.related_model is model:
            values.append("NULL")
        elif isinstance(field, models.ForeignKey) and field.related_model is Person:
            position = "t.position" if any(f.name == "position" for f in model._meta.concrete_fields) else "0"
            alias = f"p_{column}"
            joins += f" LEFT JOIN bench_person_pool {alias} ON {alias}.n = (m.person_base + {position}) %% {pool}"
            values.append(f"CASE WHEN t.{column} IS NULL THEN NULL ELSE {alias}.person_id END")
        elif isinstance(field, models.DateField):
            values.append(_shift(vendor, field, column))
        elif field.name == "code" and model is Case:
            values.append("m.code")
        elif field.name == "address" and model is Case:
            # a house number on the template's village or site: copies are not all at the same few hundred places
            values.append("CASE WHEN t.address = '' THEN '' ELSE t.address || m.house END")
        else:
            values.append(f"t.{column}")
    case_column = "id" if model is Case else next(
        f.column for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey) and f.related_model is Case
    )
    return (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM bench_clone_map m "
            f"JOIN {table} t ON t.{case_column} = m.template_id{joins} WHERE m.n >= %s AND m.n < %s")


def _skip_foreign_key_checks(cursor) -> None:
    """The copies reference only rows that exist (their templates' units, users, labels; the new matters; the
    pool's persons): skip PostgreSQL's deferred foreign-key checks at each commit when allowed (a superuser; it
    costs about as much as the inserts otherwise)."""
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic():
            cursor.execute("SET session_replication_role = replica")
    except DatabaseError:
        _say("  (not a superuser: foreign keys are checked at each commit, which is slower)")


def copy_matters(plan: Plan, pool: int) -> int:
    from django.apps import apps
    from django.db import connection, transaction

    from yidi.cases.models import Case

    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":  # a bulk load of generated data: no need to wait for each batch's WAL flush
            cursor.execute("SET synchronous_commit TO off")
            _skip_foreign_key_checks(cursor)
        cursor.execute("DROP TABLE IF EXISTS bench_clone_map")
        cursor.execute("CREATE TABLE bench_clone_map (n integer PRIMARY KEY, template_id bigint NOT NULL, "
                       "shift_days integer NOT NULL, code varchar(24) NOT NULL, person_base integer NOT NULL, "
                       "house varchar(20) NOT NULL, new_id bigint)")
    rows = list(plan.rows())
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany("INSERT INTO bench_clone_map (n, template_id, shift_days, code, person_base, house) "
                               "VALUES (%s, %s, %s, %s, %s, %s)", rows[start:start + BATCH])
    statements = [(Case, _copy_sql(Case, vendor, pool))] + [
        (model, _copy_sql(model, vendor, pool)) for model in (apps.get_model(*name) for name in COPIED)
    ]
    if vendor == "postgresql":
        link = ("UPDATE bench_clone_map m SET new_id = c.id FROM cases_case c "
                "WHERE c.code = m.code AND m.n >= %s AND m.n < %s")
    else:
        link = ("UPDATE bench_clone_map SET new_id = (SELECT c.id FROM cases_case c WHERE c.code = "
                "bench_clone_map.code) WHERE n >= %s AND n < %s")
    total = len(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bench_clone_map")
        cursor.execute("ANALYZE bench_person_pool")
    for start in range(0, total, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            bounds = (rows[start][0], rows[min(start + BATCH, total) - 1][0] + 1)
            timings = []
            for model, sql in [statements[0], (None, link), *statements[1:]]:
                began = time.monotonic()
                cursor.execute(sql, bounds)
                timings.append(f"{model._meta.model_name if model else 'link'} {time.monotonic() - began:.1f}")
            if os.environ.get("YIDI_GENERATE_TIMINGS"):
                _say("  " + ", ".join(timings))
        _say(f"  matters {min(start + BATCH, total):,}/{total:,}")
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("SET synchronous_commit TO DEFAULT")
    return total


def finish(plan: Plan, copies: int, started: float) -> None:
    from django.db import connection, transaction

    from yidi.audit.actions import record
    from yidi.cases.models import Case
    from yidi.core.models import CodeSequence

    with transaction.atomic():
        for year, value in plan.next_seq.items():
            CodeSequence.objects.update_or_create(prefix=plan.county, year=year, defaults={"last_value": value})
        record(actor=None, action="bench.generated", object_type="case", object_id="*",
               data={"copies": copies, "seed": plan.rng.random(), "until": plan.until.isoformat()})
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_clone_map")
        cursor.execute("DROP TABLE IF EXISTS bench_person_pool")
        # a freshly loaded table also needs its visibility map, or index-only scans read the heap (like autovacuum)
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block  # VACUUM refuses a transaction
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    _say(f"done: {Case.objects.count():,} matters in the database, {copies:,} copied, "
         f"{time.monotonic() - started:.0f} s in all")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matters", type=int, default=1_000_000, help="how many matters to add (copies)")
    parser.add_argument("--county", default="330681")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL, else the project's SQLite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--templates", type=int, default=400, help="real matters to build when there are none")
    parser.add_argument("--until", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    args = parser.parse_args(argv)
    if args.matters < 1 or args.years < 1:
        parser.error("--matters and --years must be positive")
    started = time.monotonic()
    setup(args.database_url)
    from django.utils import timezone

    until = args.until or timezone.localdate()
    build_templates(args.county, args.templates, args.seed, until)
    pool = max(1_000, int(args.matters * 0.6))
    _say(f"building a pool of {pool:,} persons …")
    build_pool(pool, args.seed)
    plan = Plan(matters=args.matters, years=args.years, seed=args.seed, until=until, pool=pool)
    _say(f"copying {args.matters:,} matters …")
    copies = copy_matters(plan, pool)
    finish(plan, copies, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
