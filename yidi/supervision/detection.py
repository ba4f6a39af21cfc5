"""The detectors: a few SQL aggregates over a whole run's period, the statistical tests of `supervision.domain`
on the aggregated rows in Python, and one `Signal` per (day, situation) found.

A run over [first_on, last_on] yields, for every day of it, exactly the signals a run of that single day would
yield (the daily task's run), and `jobs.detect_risks` records them in day order: a year's backfill leaves the same
alerts as 365 daily runs. Each detector reads a constant number of queries whatever the period's length:
- spike: matters per (dispute type, township, week) for the period and its baseline lookback (one GROUP BY), then
  the matters of the few weeks whose full count is a signal (a signal on any day of a week implies one at the
  week's last day of the period: the test is monotone in the count), each day's count taken from those;
- cluster: one query per key (respondent, place) that keeps the groups with enough distinct complainants in some
  two consecutive blocks of `window_days` days (a window lies within two) and returns their matters and applicants,
  slid over in Python;
- repeat: the people with enough contacts over the period, then their contacts, slid over in Python;
- seasonal: per pre-festival season touched, the watched type's matters per day over the season and its baselines.
Parties are looked at only through the person index's keyed hashes and the organisations' credit codes; nothing
is decrypted.

The tests (also in docs/risk.md), for a run of the day `d`:
- spike: per (dispute type, township) series, the count of `d`'s week so far against the mean of the previous
  `baseline_periods` full weeks, one-sided Poisson test (`domain.test_count`); a week whose baseline reaches before
  the week of the region's first matter on record is not tested (no history, no baseline);
- cluster (group-incident signal): in the `window_days` days ending on `d`, ≥ `min_count` distinct complainants
  (applicants, by person index) against the same respondent (credit code, else ID-number hash, else name+phone
  hash, else an organisation's name, else the person row), or at the same place (village + address + dispute type);
- repeat: one person (person index) with ≥ `min_count` contacts in the `window_days` days ending on `d`;
- seasonal: on a day `d` inside the `window_days` days before a Spring Festival, the watched type's count since
  the season began against the same days before earlier festivals (`baseline_periods` years, those with data),
  one-sided Poisson test; with no earlier year on record, against the same number of days just before the season.
"""

import hashlib
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Case as CaseWhen
from django.db.models import CharField, Count, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Substr, TruncDate, TruncWeek
from django.utils import timezone

from yidi.cases.models import Case, CaseParty, Contact
from yidi.core.masking import PersonalKind, mask
from yidi.core.models import TaxonomyLabel
from yidi.regions.domain import code_range
from yidi.regions.models import Region
from yidi.supervision.domain import (
    AlertKind,
    Finding,
    Severity,
    common_region,
    format_number,
    format_p,
    same_span_in_year,
    season_containing,
    severity_for,
    severity_rule_text,
    test_count,
    week_start,
    weeks_between,
)
from yidi.supervision.models import DetectionRule, SpringFestival

DISPUTE_TAXONOMY = "mediation_type"
OR_CHUNK = 100  # conditions OR-ed into one query when fetching the matters of many signals


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone())


def days_between(first: date, last: date) -> Iterator[date]:
    for n in range((last - first).days + 1):
        yield first + timedelta(days=n)


def _in_region(region: str, prefix: str = "") -> Q:
    low, high = code_range(region)
    return Q(**{f"{prefix}region_id__gte": low, f"{prefix}region_id__lt": high})


def _registered(first: date, last: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}registered_at__gte": start_of(first),
                f"{prefix}registered_at__lt": start_of(last + timedelta(days=1))})


def _local_date(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value, zone()).date() if timezone.is_aware(value) else value.date()
    return value


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _region_names(codes) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=set(codes)).values_list("code", "short_name"))


def _place_name(code: str, names: dict[str, str]) -> str:
    """Township + village (e.g. 枫桥镇枫源村) for a village code, the region's own name otherwise."""
    if len(code) > 9 and code[:9] in names:
        return names[code[:9]] + names.get(code, code)
    return names.get(code, code)


def _day(field: str) -> TruncDate:
    """The local calendar day of a timestamp, computed by the database."""
    return TruncDate(field, tzinfo=zone())


def first_day_on_record(region: str, *, before: date) -> date | None:
    """The day of the region's first matter registered before `before` (walks the registration index)."""
    first = (
        Case.objects.filter(_in_region(region), registered_at__lt=start_of(before))
        .order_by("registered_at").values_list("registered_at", flat=True).first()
    )
    return _local_date(first) if first else None


# --- signals ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Window:
    """The matters behind one day's signal: `items[lo:hi]`, a slice of one series' matter ids in time order
    (an id may repeat, e.g. one matter's several contacts). A series' windows share `items`, so recording a run
    needs only look at what each day's window adds to the last."""

    items: list[int]
    lo: int
    hi: int

    def ids(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.items[self.lo:self.hi])))


@dataclass(frozen=True, eq=False)
class Signal:
    """What a run of the single day `day` finds about one situation (fingerprint): the severity and the matters
    decide deduplication; the full `Finding` (title, reason, figures) is built only when it is recorded."""

    day: date
    kind: AlertKind
    fingerprint: str
    severity: Severity
    window: Window
    build: Callable[[], Finding]

    def finding(self) -> Finding:
        return self.build()


def _slide(days: list[date], first_on: date, last_on: date, window_days: int) -> Iterator[tuple[list[date], int, int]]:
    """The days of [first_on, last_on] whose window (the `window_days` days ending on each) holds some of the
    time-ordered `days`, in runs with the same window: (the run's days, lo, hi), the window being days[lo:hi].
    A window changes only on a day a matter enters it (its own day) or leaves it (`window_days` later)."""
    width = timedelta(days=window_days)
    changes = sorted({first_on} | {d for d in days if first_on < d <= last_on}
                     | {d + width for d in days if first_on < d + width <= last_on})
    for n, first in enumerate(changes):
        last = changes[n + 1] - timedelta(days=1) if n + 1 < len(changes) else last_on
        lo, hi = bisect_left(days, first - width + timedelta(days=1)), bisect_right(days, first)
        if lo < hi:
            yield list(days_between(first, last)), lo, hi


# --- spikes ----------------------------------------------------------------------------------------------


def _series_region(township: str) -> Q:
    """The matters of a series' place: a township's code range; a matter registered at county level is a series
    of its own (its code is shorter than a township's)."""
    return _in_region(township) if len(township) >= 9 else Q(region_id=township)


def detect_spikes(region: str, *, first_on: date, last_on: date, rule: DetectionRule) -> list[Signal]:
    first_day = first_day_on_record(region, before=last_on + timedelta(days=1))
    if first_day is None:
        return []
    history_start = week_start(first_day)
    weeks = weeks_between(first_on, last_on)
    earliest = weeks[0] - timedelta(weeks=rule.baseline_periods)
    rows = (
        Case.objects.filter(_in_region(region), _registered(earliest, last_on), primary_type__isnull=False)
        .annotate(week=TruncWeek("registered_at", tzinfo=zone()), township=Substr("region_id", 1, 9))
        .values("primary_type_id", "township", "week")
        .annotate(n=Count("id"))
        .order_by()
    )
    series: dict[tuple[int, str], dict[date, int]] = defaultdict(dict)
    for row in rows:
        series[(row["primary_type_id"], row["township"])][_local_date(row["week"])] = row["n"]
    # A day's count never exceeds its week's count up to `last_on`: only weeks signalling at that count can
    # signal on any of their days.
    candidates = []
    for (type_id, township), counts in series.items():
        for week in weeks:
            if week - timedelta(weeks=rule.baseline_periods) < history_start or week not in counts:
                continue
            baseline = [counts.get(week - timedelta(weeks=k), 0) for k in range(rule.baseline_periods, 0, -1)]
            if test_count(counts[week], baseline, p_threshold=rule.p_value, min_count=rule.min_count).is_signal:
                candidates.append((type_id, township, week, baseline))
    if not candidates:
        return []
    matters = _week_matters(candidates, last_on)
    type_names = dict(TaxonomyLabel.objects.filter(pk__in={c[0] for c in candidates}).values_list("pk", "name"))
    names = _region_names({c[1] for c in candidates})
    signals = []
    for type_id, township, week, baseline in candidates:
        rows = matters.get((type_id, township, week), [])
        items, days = [case_id for case_id, _ in rows], [day for _, day in rows]
        place, kind_name = names.get(township, township), type_names.get(type_id, "")
        for day in days_between(max(week, first_on), min(week + timedelta(days=6), last_on)):
            hi = bisect_right(days, day)
            result = test_count(hi, baseline, p_threshold=rule.p_value, min_count=rule.min_count)
            if not result.is_signal:
                continue
            signals.append(Signal(
                day=day, kind=AlertKind.SPIKE, fingerprint=f"spike:{type_id}:{township}:{week.isoformat()}",
                severity=severity_for(result.ratio, orange_at=rule.orange_at, red_at=rule.red_at),
                window=Window(items, 0, hi),
                build=partial(_spike_finding, rule, type_id, township, place, kind_name, week, day, result,
                              Window(items, 0, hi)),
            ))
    return sorted(signals, key=lambda s: (s.day, s.fingerprint))


def _week_matters(candidates, last_on: date) -> dict[tuple[int, str, date], list[tuple[int, date]]]:
    """The matters of each candidate (type, township, week) up to `last_on`, in time order, with their day."""
    found: dict[tuple[int, str, date], list] = defaultdict(list)
    wanted = {(type_id, township, week) for type_id, township, week, _ in candidates}
    for n in range(0, len(candidates), OR_CHUNK):
        where = Q()
        for type_id, township, week, _ in candidates[n:n + OR_CHUNK]:
            where |= (_series_region(township) & _registered(week, min(week + timedelta(days=6), last_on))
                      & Q(primary_type_id=type_id))
        for case_id, day, type_id, code in Case.objects.filter(where).annotate(day=_day("registered_at")).order_by(
            "registered_at", "id"
        ).values_list("id", "day", "primary_type_id", "region_id"):
            key = (type_id, code[:9], week_start(day))
            if key in wanted:
                found[key].append((case_id, day))
    return found


def _spike_finding(rule, type_id, township, place, kind_name, week, day, result, window) -> Finding:
    baseline_text = "、".join(format_number(v) for v in result.baseline)
    reason = (
        f"{place}{kind_name}本周（{week:%Y-%m-%d}至{day:%Y-%m-%d}）登记 {result.count} 件；"
        f"前 {rule.baseline_periods} 周每周分别为 {baseline_text} 件，平均 {format_number(round(result.mean, 2))} 件。"
        f"单侧泊松检验：以期望值 λ={result.expected:.2f} 计，出现不少于 {result.count} 件的概率 "
        f"p={format_p(result.p_value)}，低于阈值 {rule.p_value}，且达到最少件数 {rule.min_count}。"
    )
    return Finding(
        kind=AlertKind.SPIKE, fingerprint=f"spike:{type_id}:{township}:{week.isoformat()}",
        title=f"{place}{kind_name}激增：{week:%m月%d日}起一周 {result.count} 件（常态约 {result.expected:.1f} 件）",
        reason=reason,
        severity=severity_for(result.ratio, orange_at=rule.orange_at, red_at=rule.red_at),
        severity_rule=severity_rule_text(AlertKind.SPIKE, round(result.ratio, 1), orange_at=rule.orange_at,
                                         red_at=rule.red_at),
        region=township, case_ids=window.ids(), dispute_type_id=type_id, period_start_on=week, period_end_on=day,
        measures={"count": result.count, "baseline": list(result.baseline), "expected": round(result.expected, 4),
                  "p_value": result.p_value, "test": "poisson_one_sided"},
    )


# --- clusters --------------------------------------------------------------------------------------------


def respondent_key():
    """The respondent's identity, from what is stored in clear or as a keyed hash (never decrypted)."""
    return Coalesce(
        NullIf(F("person__credit_code"), Value("")),
        NullIf(F("person__id_number_hash"), Value("")),
        NullIf(F("person__name_phone_hash"), Value("")),
        CaseWhen(
            When(person__kind="organisation", then=Concat(Value("org:"), F("person__name"), output_field=CharField())),
            default=Concat(Value("person:"), Cast("person_id", CharField()), output_field=CharField()),
            output_field=CharField(),
        ),
        output_field=CharField(),
    )


def _respondent_name(name: str, kind: str) -> str:
    return name if kind == "organisation" else mask(name, PersonalKind.NAME)


@dataclass
class _Member:
    """A matter inside a cluster candidate: when, where, who complained, and how the group is named."""

    case_id: int
    day: date
    region: str
    applicants: set
    shown: str = ""


def detect_clusters(region: str, *, first_on: date, last_on: date, rule: DetectionRule) -> list[Signal]:
    earliest = first_on - timedelta(days=rule.window_days - 1)
    signals = (_respondent_clusters(region, earliest, first_on, last_on, rule)
               + _place_clusters(region, earliest, first_on, last_on, rule))
    # Within a day, groups by respondent come before groups by place: the same group seen both ways is one alert,
    # named after its respondent.
    return sorted(signals, key=lambda s: (s.day, s.fingerprint.startswith("cluster:place:"), s.fingerprint))


class DaysSince(Func):
    """Whole days from `origin` (a local midnight) to a timestamp, as an integer computed by the database: the local
    day of the timestamp counted from the origin's (the zone has no daylight saving time, so a day is 86,400 s)."""

    output_field = IntegerField()

    def __init__(self, expression, origin: datetime):
        super().__init__(expression)
        self.origin = origin

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL
        sql, params = compiler.compile(self.source_expressions[0])
        return f"FLOOR(EXTRACT(EPOCH FROM ({sql} - %s)) / 86400)::integer", (*params, self.origin)

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        origin = self.origin.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"((CAST(strftime('%%s', {sql}) AS INTEGER) - CAST(strftime('%%s', %s) AS INTEGER)) / 86400)", (
            *params, origin)


CANDIDATES_PER_QUERY = 300  # groups per query when reading the candidate groups' matters


def _in_window_groups(people, members, groups: list[str], order: list[str], rule) -> list[tuple]:
    """The rows of `members` whose group can reach `rule.min_count` distinct complainants in some `window_days`
    window, in `order`.

    `people` has a row per (group, complainant, day): the columns `groups`, `complainant` and `d` (`DaysSince` the
    period's first day); `members` the rows to return, with the columns `groups` and `order` first. A window of
    `window_days` days lies within two consecutive blocks of that length counted from the first day, so a group
    none of whose blocks has, with the next, as many distinct complainants as the threshold cannot form one (the
    sum of two blocks' counts is at least the window's). One query finds the other groups (the candidates); their
    matters are read only if there are any, a few hundred groups per query; they are slid over day by day in
    Python."""
    people_sql, people_params = people.order_by().query.sql_with_params()
    g = ", ".join(groups)
    block = f"d / {int(rule.window_days)}"
    # Only the ORM's compiled SQL (whose values are parameters) and our own column names are put in the text.
    candidates_sql = (
        f"WITH r AS ({people_sql}), "  # noqa: S608
        f"b AS (SELECT {g}, {block} AS k, COUNT(DISTINCT complainant) AS n FROM r GROUP BY {g}, {block}), "
        f"w AS (SELECT {g}, k, n, LAG(k) OVER win AS pk, LAG(n) OVER win AS pn FROM b "
        f"WINDOW win AS (PARTITION BY {g} ORDER BY k)) "
        f"SELECT DISTINCT {g} FROM w WHERE n >= %s OR (pk = k - 1 AND n + pn >= %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(candidates_sql, (*people_params, rule.min_count, rule.min_count))
        candidates = cursor.fetchall()
    if not candidates:
        return []
    members_sql, members_params = members.order_by().query.sql_with_params()
    row = "(" + ", ".join(["%s"] * len(groups)) + ")"
    rows = []
    with connection.cursor() as cursor:
        for start in range(0, len(candidates), CANDIDATES_PER_QUERY):
            chunk = candidates[start:start + CANDIDATES_PER_QUERY]
            cursor.execute(
                f"SELECT * FROM ({members_sql}) x WHERE ({', '.join(f'x.{col}' for col in groups)}) "  # noqa: S608
                f"IN (VALUES {', '.join([row] * len(chunk))})",
                (*members_params, *(value for group in chunk for value in group)),
            )
            rows += cursor.fetchall()
    positions = [len(groups) + n for n in range(len(order))]  # the order columns follow the group's
    return sorted(rows, key=lambda r: [r[n] for n in positions])


def _respondent_clusters(region, earliest: date, first_on: date, last_on: date, rule) -> list[Signal]:
    origin = start_of(earliest)
    parties = CaseParty.objects.filter(_in_region(region, "case__"), _registered(earliest, last_on, "case__"),
                                       role="respondent")
    people = parties.filter(case__parties__role="applicant").values(
        g_key=respondent_key(), complainant=F("case__parties__person_id"), d=DaysSince("case__registered_at", origin))
    members = parties.values(
        g_key=respondent_key(), o_at=F("case__registered_at"), o_case=F("case_id"), o_id=F("id"),
        day=DaysSince("case__registered_at", origin), code=F("case__region_id"), name=F("person__name"),
        kind=F("person__kind"), other=F("case__parties__person_id"), other_role=F("case__parties__role"))
    groups: dict[str, dict[int, _Member]] = defaultdict(dict)
    for key, _, case_id, _, day, code, name, kind, other, other_role in _in_window_groups(
        people, members, ["g_key"], ["o_at", "o_case", "o_id"], rule
    ):
        member = groups[key].get(case_id)
        if member is None:
            member = groups[key][case_id] = _Member(case_id, earliest + timedelta(days=day), code, set(),
                                                    _respondent_name(name, kind))
        if other_role == "applicant":
            member.applicants.add(other)
    return _group_signals(groups, first_on, last_on, rule, _respondent_finding)


def _place_clusters(region, earliest: date, first_on: date, last_on: date, rule) -> list[Signal]:
    origin = start_of(earliest)
    cases = Case.objects.filter(_in_region(region), _registered(earliest, last_on)).exclude(address="")
    place = {"g_code": F("region_id"), "g_address": F("address"), "g_type": Coalesce("primary_type_id", Value(0))}
    people = cases.filter(parties__role="applicant").values(
        **place, complainant=F("parties__person_id"), d=DaysSince("registered_at", origin))
    members = cases.values(**place, o_at=F("registered_at"), o_id=F("id"), day=DaysSince("registered_at", origin),
                           party=F("parties__person_id"), party_role=F("parties__role"))
    groups: dict[tuple, dict[int, _Member]] = defaultdict(dict)
    for code, address, type_id, _, case_id, day, person_id, role in _in_window_groups(
        people, members, list(place), ["o_at", "o_id"], rule
    ):
        key = (code, address, type_id or None)
        member = groups[key].get(case_id)
        if member is None:
            member = groups[key][case_id] = _Member(case_id, earliest + timedelta(days=day), code, set())
        if role == "applicant":
            member.applicants.add(person_id)
    if not groups:
        return []
    names = _region_names({key[0] for key in groups} | {key[0][:9] for key in groups})
    type_names = dict(TaxonomyLabel.objects.filter(pk__in={key[2] for key in groups}).values_list("pk", "name"))
    return _group_signals(groups, first_on, last_on, rule, partial(_place_finding, names=names, type_names=type_names))


def _group_signals(groups: dict, first_on: date, last_on: date, rule, make: Callable) -> list[Signal]:
    """Slide each candidate's window over the period: a signal on every day with ≥ `min_count` distinct
    complainants in the `window_days` days ending that day."""
    signals = []
    for key, by_case in groups.items():
        members = list(by_case.values())  # in time order, as read
        days = [m.day for m in members]
        items = [m.case_id for m in members]
        people: Counter = Counter()
        fingerprint = _group_fingerprint(key)
        lo = hi = 0
        for run, new_lo, new_hi in _slide(days, first_on, last_on, rule.window_days):
            for member in members[lo:min(new_lo, hi)]:  # out of the window
                for person in member.applicants:
                    people[person] -= 1
                    if not people[person]:
                        del people[person]
            for member in members[max(hi, new_lo):new_hi]:  # into the window
                people.update(member.applicants)
            lo, hi = new_lo, new_hi
            count = len(people)
            if count < rule.min_count:
                continue
            window = Window(items, lo, hi)
            severity = severity_for(count, orange_at=rule.orange_at, red_at=rule.red_at)
            for day in run:
                finding = partial(make, key, members, window, day - timedelta(days=rule.window_days - 1), day, count,
                                  rule)
                signals.append(Signal(day=day, kind=AlertKind.CLUSTER, fingerprint=fingerprint, severity=severity,
                                      window=window, build=finding))
    return signals


def _group_fingerprint(key) -> str:
    if isinstance(key, str):
        return f"cluster:respondent:{_digest(key)}"
    code, address, type_id = key
    return f"cluster:place:{_digest(code + '|' + address + '|' + str(type_id))}"


def _respondent_finding(key, members, window, start, end, people, rule) -> Finding:
    members = members[window.lo:window.hi]
    codes = sorted({m.region for m in members})
    area = common_region(codes)
    names = _region_names({c[:9] for c in codes} | set(codes))
    shown = members[0].shown
    return Finding(
        kind=AlertKind.CLUSTER, fingerprint=_group_fingerprint(key),
        title=f"群体性苗头：{people} 人反映同一被申请人（{shown}）",
        reason=(
            f"{start:%Y-%m-%d}至{end:%Y-%m-%d}（{rule.window_days} 天）内，{people} 名不同的申请人就同一被申请人"
            f"（{shown}）登记 {len(members)} 件事项，集中在{_place_name(area, names)}；"
            f"达到群体性苗头阈值（{rule.window_days} 天内不少于 {rule.min_count} 名不同反映人）。"
            f"同一被申请人按统一社会信用代码、证件号码或姓名加电话的加密索引识别。"
        ),
        severity=severity_for(people, orange_at=rule.orange_at, red_at=rule.red_at),
        severity_rule=severity_rule_text(AlertKind.CLUSTER, people, orange_at=rule.orange_at, red_at=rule.red_at),
        region=area, case_ids=window.ids(), period_start_on=start, period_end_on=end,
        measures={"people": people, "matters": len(members), "window_days": rule.window_days, "key": "respondent"},
    )


def _place_finding(key, members, window, start, end, people, rule, *, names, type_names) -> Finding:
    members = members[window.lo:window.hi]
    code, address, type_id = key
    place = f"{_place_name(code, names)}{address}"
    type_name = type_names.get(type_id, "未分类")
    return Finding(
        kind=AlertKind.CLUSTER, fingerprint=_group_fingerprint(key),
        title=f"群体性苗头：{people} 人反映同一地点（{place}）的{type_name}",
        reason=(
            f"{start:%Y-%m-%d}至{end:%Y-%m-%d}（{rule.window_days} 天）内，{people} 名不同的申请人就同一地点"
            f"（{place}）的{type_name}登记 {len(members)} 件事项；达到群体性苗头阈值"
            f"（{rule.window_days} 天内不少于 {rule.min_count} 名不同反映人）。"
        ),
        severity=severity_for(people, orange_at=rule.orange_at, red_at=rule.red_at),
        severity_rule=severity_rule_text(AlertKind.CLUSTER, people, orange_at=rule.orange_at, red_at=rule.red_at),
        region=code, case_ids=window.ids(), dispute_type_id=type_id, period_start_on=start, period_end_on=end,
        measures={"people": people, "matters": len(members), "window_days": rule.window_days, "key": "place"},
    )


# --- repeat contacts -------------------------------------------------------------------------------------


def detect_repeats(region: str, *, first_on: date, last_on: date, rule: DetectionRule) -> list[Signal]:
    earliest = first_on - timedelta(days=rule.window_days - 1)
    contacts = Contact.objects.filter(
        _in_region(region, "case__"), person__isnull=False, contacted_at__gte=start_of(earliest),
        contacted_at__lt=start_of(last_on + timedelta(days=1)),
    )
    # A window's contacts never exceed the whole period's: only these people can be repeat visitors.
    candidates = contacts.values("person_id").annotate(n=Count("id")).filter(n__gte=rule.min_count).values("person_id")
    people: dict[int, list] = defaultdict(list)
    for row in contacts.filter(person_id__in=candidates).annotate(day=_day("contacted_at")).order_by(
        "contacted_at", "id"
    ).values_list("person_id", "day", "case_id", "case__region_id", "person__name"):
        people[row[0]].append(row)
    signals = []
    for person_id, rows in people.items():
        days = [day for _, day, _, _, _ in rows]
        items = [case_id for _, _, case_id, _, _ in rows]
        shown = mask(rows[0][4], PersonalKind.NAME)
        for run, lo, hi in _slide(days, first_on, last_on, rule.window_days):
            if hi - lo < rule.min_count:
                continue
            window = Window(items, lo, hi)
            severity = severity_for(hi - lo, orange_at=rule.orange_at, red_at=rule.red_at)
            signals += [Signal(day=day, kind=AlertKind.REPEAT, fingerprint=f"repeat:person:{person_id}",
                               severity=severity, window=window,
                               build=partial(_repeat_finding, person_id, shown, rows, day, rule, window))
                        for day in run]
    return sorted(signals, key=lambda s: (s.day, s.fingerprint))


def _repeat_finding(person_id, shown, rows, end, rule, window) -> Finding:
    rows = rows[window.lo:window.hi]
    start = end - timedelta(days=rule.window_days - 1)
    contacts, matters = len(rows), len({row[2] for row in rows})
    return Finding(
        kind=AlertKind.REPEAT, fingerprint=f"repeat:person:{person_id}",
        title=f"重复来访：{shown} {rule.window_days} 天内反映 {contacts} 次",
        reason=(
            f"同一当事人（{shown}，按当事人档案识别）在 {start:%Y-%m-%d}至{end:%Y-%m-%d}"
            f"（{rule.window_days} 天）内反映 {contacts} 次，涉及 {matters} 件事项；"
            f"达到重复来访阈值（{rule.window_days} 天内不少于 {rule.min_count} 次）。"
        ),
        severity=severity_for(contacts, orange_at=rule.orange_at, red_at=rule.red_at),
        severity_rule=severity_rule_text(AlertKind.REPEAT, contacts, orange_at=rule.orange_at, red_at=rule.red_at),
        region=common_region(sorted({row[3] for row in rows})), case_ids=window.ids(), period_start_on=start,
        period_end_on=end, measures={"contacts": contacts, "matters": matters, "window_days": rule.window_days},
    )


# --- seasonal --------------------------------------------------------------------------------------------


def detect_seasonal(region: str, *, first_on: date, last_on: date, rule: DetectionRule) -> list[Signal]:
    label = TaxonomyLabel.objects.filter(taxonomy__code=DISPUTE_TAXONOMY, code=rule.dispute_type_code).first()
    festivals = sorted(SpringFestival.objects.values_list("festival_on", flat=True))
    if label is None or not festivals:
        return []
    # The run's days inside each pre-festival season; every one of them is an evaluation.
    seasons: dict[date, list[date]] = defaultdict(list)
    for festival in festivals:
        starts_on = festival - timedelta(days=rule.window_days)
        first, last = max(first_on, starts_on), min(last_on, festival - timedelta(days=1))
        if first <= last:
            seasons[festival] = list(days_between(first, last))
    if not seasons:
        return []
    first_day = first_day_on_record(region, before=last_on + timedelta(days=1))
    place = _region_names([region]).get(region, region)
    signals = []
    for days in seasons.values():
        season = season_containing(days[0], festivals, season_days=rule.window_days)
        history_start = first_day if first_day is not None and first_day < season.starts_on else None
        signals += _season_signals(region, place, season, days, history_start, festivals, label, rule)
    return sorted(signals, key=lambda s: (s.day, s.fingerprint))


def _season_signals(region, place, season, days, history_start, festivals, label, rule) -> list[Signal]:
    longest = (days[-1] - season.starts_on).days + 1
    earlier = [f for f in festivals if f < season.festival_on][-rule.baseline_periods:]
    spans = [same_span_in_year(season, longest, f) for f in earlier]
    spans.append((season.starts_on - timedelta(days=longest), season.starts_on - timedelta(days=1)))
    per_day = _daily_counts(region, label.pk, spans)
    rows = list(
        Case.objects.filter(_in_region(region), _registered(season.starts_on, days[-1]), primary_type_id=label.pk)
        .annotate(day=_day("registered_at")).order_by("registered_at", "id").values_list("id", "day")
    )
    items, registered_on = [case_id for case_id, _ in rows], [day for _, day in rows]
    signals = []
    for day in days:
        elapsed = (day - season.starts_on).days + 1
        count = bisect_right(registered_on, day)
        same_days = [same_span_in_year(season, elapsed, f) for f in earlier]
        same_days = [span for span in same_days if history_start is not None and span[0] >= history_start]
        if same_days:
            baseline = [sum(per_day.get(d, 0) for d in days_between(*span)) for span in same_days]
        else:
            span = (season.starts_on - timedelta(days=elapsed), season.starts_on - timedelta(days=1))
            if history_start is None or span[0] < history_start:
                continue
            baseline = [sum(per_day.get(d, 0) for d in days_between(*span))]
        result = test_count(count, baseline, p_threshold=rule.p_value, min_count=rule.min_count)
        if not result.is_signal:
            continue
        window = Window(items, 0, count)
        signals.append(Signal(
            day=day, kind=AlertKind.SEASONAL, fingerprint=f"seasonal:{label.pk}:{region}:{season.festival_on.year}",
            severity=severity_for(result.ratio, orange_at=rule.orange_at, red_at=rule.red_at), window=window,
            build=partial(_seasonal_finding, region, place, season, day, elapsed, same_days, result, label, rule,
                          window),
        ))
    return signals


def _daily_counts(region: str, type_id: int, spans: list[tuple[date, date]]) -> dict[date, int]:
    """The type's matters per day over the spans, in one GROUP BY."""
    where = Q()
    for first, last in spans:
        where |= _registered(first, last)
    rows = (
        Case.objects.filter(where, _in_region(region), primary_type_id=type_id)
        .annotate(day=_day("registered_at")).values("day").annotate(n=Count("id")).order_by()
    )
    return {_local_date(row["day"]): row["n"] for row in rows}


def _seasonal_finding(region, place, season, as_of, elapsed, same_days, result, label, rule, window) -> Finding:
    if same_days:
        basis = "往年春节前同期（" + "；".join(
            f"{first.year}年{first:%m-%d}至{last:%m-%d} {n} 件"
            for (first, last), n in zip(same_days, result.baseline, strict=True)
        ) + "）"
    else:
        first, last = season.starts_on - timedelta(days=elapsed), season.starts_on - timedelta(days=1)
        basis = (f"往年同期无数据，以节前季之前的相同天数（{first:%Y-%m-%d}至{last:%Y-%m-%d}，"
                 f"{format_number(result.baseline[0])} 件）为基线")
    count = result.count
    return Finding(
        kind=AlertKind.SEASONAL, fingerprint=f"seasonal:{label.pk}:{region}:{season.festival_on.year}",
        title=f"{place}春节前{label.name}高发：节前 {elapsed} 天 {count} 件（常态约 {result.expected:.1f} 件）",
        reason=(
            f"{season.festival_on.year}年春节（{season.festival_on:%Y-%m-%d}）前 {rule.window_days} 天为季节性观察期。"
            f"观察期已过 {elapsed} 天（{season.starts_on:%Y-%m-%d}至{as_of:%Y-%m-%d}），{place}登记{label.name} {count} 件；"
            f"{basis}，平均 {format_number(round(result.mean, 2))} 件。单侧泊松检验：以期望值 λ={result.expected:.2f} 计，"
            f"p={format_p(result.p_value)}，低于阈值 {rule.p_value}，且达到最少件数 {rule.min_count}。"
        ),
        severity=severity_for(result.ratio, orange_at=rule.orange_at, red_at=rule.red_at),
        severity_rule=severity_rule_text(AlertKind.SEASONAL, round(result.ratio, 1), orange_at=rule.orange_at,
                                         red_at=rule.red_at),
        region=region, case_ids=window.ids(), dispute_type_id=label.pk, period_start_on=season.starts_on,
        period_end_on=as_of,
        measures={"count": count, "baseline": list(result.baseline), "expected": round(result.expected, 4),
                  "p_value": result.p_value, "festival_on": season.festival_on.isoformat(),
                  "test": "poisson_one_sided"},
    )


DETECTORS = {
    AlertKind.SPIKE: detect_spikes,
    AlertKind.CLUSTER: detect_clusters,
    AlertKind.REPEAT: detect_repeats,
    AlertKind.SEASONAL: detect_seasonal,
}
