"""The detectors: SQL aggregates over matters (GROUP BY week × type × township, respondent, place, person), the
statistical tests of `supervision.domain` on the aggregated rows, and one `Finding` per signal.

No detector loops over matters in Python: each reads grouped counts (at most types × townships × weeks rows),
then fetches the ids of the matters behind the few signals found. Parties are looked at only through the person
index's keyed hashes and the organisations' credit codes; nothing is decrypted.

The tests (also in docs/risk.md):
- spike: per (dispute type, township) series, this week's count against the mean of the previous
  `baseline_periods` weeks, one-sided Poisson test (`domain.test_count`); weeks whose baseline reaches before the
  first week with any matter in the region are not tested (no history, no baseline);
- cluster (group-incident signal): in a window of `window_days` days, ≥ `min_count` distinct complainants
  (applicants, by person index) against the same respondent (credit code, else ID-number hash, else name+phone
  hash, else an organisation's name, else the person row), or at the same place (village + address + dispute type);
- repeat: one person (person index) with ≥ `min_count` contacts in `window_days` days;
- seasonal: inside the `window_days` days before a Spring Festival, the watched type's count so far against the
  same days before earlier festivals (`baseline_periods` years, those with data), one-sided Poisson test; with no
  earlier year on record, against the same number of days just before the season.
"""

import hashlib
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case as CaseWhen
from django.db.models import CharField, Count, F, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Substr, TruncWeek
from django.utils import timezone

from yidi.cases.models import Case, CaseParty, Contact
from yidi.core.masking import PersonalKind, mask
from yidi.core.models import TaxonomyLabel
from yidi.regions.domain import code_range
from yidi.regions.models import Region
from yidi.supervision.domain import (
    AlertKind,
    Finding,
    common_region,
    format_number,
    format_p,
    same_span_in_year,
    season_containing,
    severity_for,
    severity_rule_text,
    test_count,
    weeks_between,
    window_ends,
)
from yidi.supervision.models import DetectionRule, SpringFestival

DISPUTE_TAXONOMY = "mediation_type"


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone())


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


def first_week_on_record(region: str, *, before: date) -> date | None:
    """The day of the region's first matter registered before `before` (walks the registration index)."""
    first = (
        Case.objects.filter(_in_region(region), registered_at__lt=start_of(before))
        .order_by("registered_at").values_list("registered_at", flat=True).first()
    )
    return _local_date(first) if first else None


# --- spikes ----------------------------------------------------------------------------------------------


def detect_spikes(region: str, *, first_on: date, last_on: date, rule: DetectionRule) -> list[Finding]:
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
    history_start = None
    for row in rows:
        week = _local_date(row["week"])
        series[(row["primary_type_id"], row["township"])][week] = row["n"]
        history_start = week if history_start is None or week < history_start else history_start
    if history_start is None:
        return []
    signals = []
    for (type_id, township), counts in series.items():
        for week in weeks:
            baseline_start = week - timedelta(weeks=rule.baseline_periods)
            if baseline_start < history_start or week not in counts:
                continue
            baseline = [counts.get(week - timedelta(weeks=k), 0) for k in range(rule.baseline_periods, 0, -1)]
            result = test_count(counts[week], baseline, p_threshold=rule.p_value, min_count=rule.min_count)
            if result.is_signal:
                signals.append((type_id, township, week, result))
    if not signals:
        return []
    type_names = dict(TaxonomyLabel.objects.filter(pk__in={s[0] for s in signals}).values_list("pk", "name"))
    names = _region_names({s[1] for s in signals})
    findings = []
    for type_id, township, week, result in signals:
        week_end = min(week + timedelta(days=6), last_on)
        ids = tuple(
            Case.objects.filter(_in_region(township), _registered(week, week_end), primary_type_id=type_id)
            .order_by("registered_at", "id").values_list("id", flat=True)
        )
        place, kind_name = names.get(township, township), type_names.get(type_id, "")
        baseline_text = "、".join(format_number(v) for v in result.baseline)
        reason = (
            f"{place}{kind_name}本周（{week:%Y-%m-%d}至{week_end:%Y-%m-%d}）登记 {result.count} 件；"
            f"前 {rule.baseline_periods} 周每周分别为 {baseline_text} 件，平均 {format_number(round(result.mean, 2))} 件。"
            f"单侧泊松检验：以期望值 λ={result.expected:.2f} 计，出现不少于 {result.count} 件的概率 "
            f"p={format_p(result.p_value)}，低于阈值 {rule.p_value}，且达到最少件数 {rule.min_count}。"
        )
        findings.append(Finding(
            kind=AlertKind.SPIKE, fingerprint=f"spike:{type_id}:{township}:{week.isoformat()}",
            title=f"{place}{kind_name}激增：{week:%m月%d日}起一周 {result.count} 件（常态约 {result.expected:.1f} 件）",
            reason=reason,
            severity=severity_for(result.ratio, orange_at=rule.orange_at, red_at=rule.red_at),
            severity_rule=severity_rule_text(AlertKind.SPIKE, round(result.ratio, 1), orange_at=rule.orange_at,
                                             red_at=rule.red_at),
            region=township, case_ids=ids, dispute_type_id=type_id, period_start_on=week, period_end_on=week_end,
            measures={"count": result.count, "baseline": list(result.baseline), "expected": round(result.expected, 4),
                      "p_value": result.p_value, "test": "poisson_one_sided"},
        ))
    return findings


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


def detect_clusters(region: str, *, first_on: date, last_on: date, rule: DetectionRule) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for end in window_ends(first_on, last_on, window_days=rule.window_days):
        start = end - timedelta(days=rule.window_days - 1)
        for finding in _respondent_clusters(region, start, end, rule) + _place_clusters(region, start, end, rule):
            findings[finding.fingerprint] = _merge(findings.get(finding.fingerprint), finding)
    return list(findings.values())


def _merge(earlier: Finding | None, later: Finding) -> Finding:
    """Across windows of one run, the same group keeps the later window's figures and all matters seen."""
    if earlier is None:
        return later
    ids = tuple(sorted(set(earlier.case_ids) | set(later.case_ids)))
    return Finding(**{**later.__dict__, "case_ids": ids, "period_start_on": earlier.period_start_on})


def _respondent_clusters(region: str, start: date, end: date, rule: DetectionRule) -> list[Finding]:
    parties = CaseParty.objects.filter(_in_region(region, "case__"), _registered(start, end, "case__"),
                                       role="respondent")
    hits = {
        row["key"]: row
        for row in parties.annotate(key=respondent_key()).values("key").annotate(
            people=Count("case__parties__person_id", filter=Q(case__parties__role="applicant"), distinct=True),
            matters=Count("case_id", distinct=True),
        ).filter(people__gte=rule.min_count).order_by()
    }
    if not hits:
        return []
    members = defaultdict(set)
    shown: dict[str, str] = {}
    codes = defaultdict(set)
    for key, case_id, name, kind, region_code in parties.annotate(key=respondent_key()).filter(
        key__in=list(hits)
    ).values_list("key", "case_id", "person__name", "person__kind", "case__region_id"):
        members[key].add(case_id)
        codes[key].add(region_code)
        shown.setdefault(key, _respondent_name(name, kind))
    names = _region_names({c[:9] for cs in codes.values() for c in cs} | {c for cs in codes.values() for c in cs})
    findings = []
    for key, row in hits.items():
        area = common_region(sorted(codes[key]))
        people = row["people"]
        findings.append(Finding(
            kind=AlertKind.CLUSTER, fingerprint=f"cluster:respondent:{_digest(key)}",
            title=f"群体性苗头：{people} 人反映同一被申请人（{shown[key]}）",
            reason=(
                f"{start:%Y-%m-%d}至{end:%Y-%m-%d}（{rule.window_days} 天）内，{people} 名不同的申请人就同一被申请人"
                f"（{shown[key]}）登记 {row['matters']} 件事项，集中在{_place_name(area, names)}；"
                f"达到群体性苗头阈值（{rule.window_days} 天内不少于 {rule.min_count} 名不同反映人）。"
                f"同一被申请人按统一社会信用代码、证件号码或姓名加电话的加密索引识别。"
            ),
            severity=severity_for(people, orange_at=rule.orange_at, red_at=rule.red_at),
            severity_rule=severity_rule_text(AlertKind.CLUSTER, people, orange_at=rule.orange_at, red_at=rule.red_at),
            region=area, case_ids=tuple(sorted(members[key])), period_start_on=start, period_end_on=end,
            measures={"people": people, "matters": row["matters"], "window_days": rule.window_days,
                      "key": "respondent"},
        ))
    return findings


def _place_clusters(region: str, start: date, end: date, rule: DetectionRule) -> list[Finding]:
    rows = list(
        Case.objects.filter(_in_region(region), _registered(start, end)).exclude(address="")
        .values("region_id", "address", "primary_type_id")
        .annotate(people=Count("parties__person_id", filter=Q(parties__role="applicant"), distinct=True),
                  matters=Count("id", distinct=True))
        .filter(people__gte=rule.min_count).order_by()
    )
    if not rows:
        return []
    names = _region_names({r["region_id"] for r in rows} | {r["region_id"][:9] for r in rows})
    type_names = dict(TaxonomyLabel.objects.filter(pk__in={r["primary_type_id"] for r in rows}).values_list("pk", "name"))
    findings = []
    for row in rows:
        ids = tuple(
            Case.objects.filter(_registered(start, end), region_id=row["region_id"], address=row["address"],
                                primary_type_id=row["primary_type_id"]).order_by("id").values_list("id", flat=True)
        )
        place = f"{_place_name(row['region_id'], names)}{row['address']}"
        type_name = type_names.get(row["primary_type_id"], "未分类")
        people = row["people"]
        findings.append(Finding(
            kind=AlertKind.CLUSTER,
            fingerprint=f"cluster:place:{_digest(row['region_id'] + '|' + row['address'] + '|' + str(row['primary_type_id']))}",
            title=f"群体性苗头：{people} 人反映同一地点（{place}）的{type_name}",
            reason=(
                f"{start:%Y-%m-%d}至{end:%Y-%m-%d}（{rule.window_days} 天）内，{people} 名不同的申请人就同一地点"
                f"（{place}）的{type_name}登记 {row['matters']} 件事项；达到群体性苗头阈值"
                f"（{rule.window_days} 天内不少于 {rule.min_count} 名不同反映人）。"
            ),
            severity=severity_for(people, orange_at=rule.orange_at, red_at=rule.red_at),
            severity_rule=severity_rule_text(AlertKind.CLUSTER, people, orange_at=rule.orange_at, red_at=rule.red_at),
            region=row["region_id"], case_ids=ids, dispute_type_id=row["primary_type_id"], period_start_on=start,
            period_end_on=end,
            measures={"people": people, "matters": row["matters"], "window_days": rule.window_days, "key": "place"},
        ))
    return findings


# --- repeat contacts -------------------------------------------------------------------------------------


def detect_repeats(region: str, *, first_on: date, last_on: date, rule: DetectionRule) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for end in window_ends(first_on, last_on, window_days=rule.window_days):
        start = end - timedelta(days=rule.window_days - 1)
        contacts = Contact.objects.filter(
            _in_region(region, "case__"), person__isnull=False, contacted_at__gte=start_of(start),
            contacted_at__lt=start_of(end + timedelta(days=1)),
        )
        hits = {
            row["person_id"]: row
            for row in contacts.values("person_id").annotate(n=Count("id"), matters=Count("case_id", distinct=True))
            .filter(n__gte=rule.min_count).order_by()
        }
        if not hits:
            continue
        members, codes, shown = defaultdict(set), defaultdict(set), {}
        for person_id, case_id, region_code, name in contacts.filter(person_id__in=list(hits)).values_list(
            "person_id", "case_id", "case__region_id", "person__name"
        ):
            members[person_id].add(case_id)
            codes[person_id].add(region_code)
            shown.setdefault(person_id, mask(name, PersonalKind.NAME))
        for person_id, row in hits.items():
            area = common_region(sorted(codes[person_id]))
            finding = Finding(
                kind=AlertKind.REPEAT, fingerprint=f"repeat:person:{person_id}",
                title=f"重复来访：{shown[person_id]} {rule.window_days} 天内反映 {row['n']} 次",
                reason=(
                    f"同一当事人（{shown[person_id]}，按当事人档案识别）在 {start:%Y-%m-%d}至{end:%Y-%m-%d}"
                    f"（{rule.window_days} 天）内反映 {row['n']} 次，涉及 {row['matters']} 件事项；"
                    f"达到重复来访阈值（{rule.window_days} 天内不少于 {rule.min_count} 次）。"
                ),
                severity=severity_for(row["n"], orange_at=rule.orange_at, red_at=rule.red_at),
                severity_rule=severity_rule_text(AlertKind.REPEAT, row["n"], orange_at=rule.orange_at,
                                                 red_at=rule.red_at),
                region=area, case_ids=tuple(sorted(members[person_id])), period_start_on=start, period_end_on=end,
                measures={"contacts": row["n"], "matters": row["matters"], "window_days": rule.window_days},
            )
            findings[finding.fingerprint] = _merge(findings.get(finding.fingerprint), finding)
    return list(findings.values())


# --- seasonal --------------------------------------------------------------------------------------------


def detect_seasonal(region: str, *, first_on: date, last_on: date, rule: DetectionRule) -> list[Finding]:
    label = TaxonomyLabel.objects.filter(taxonomy__code=DISPUTE_TAXONOMY, code=rule.dispute_type_code).first()
    festivals = list(SpringFestival.objects.order_by("festival_on").values_list("festival_on", flat=True))
    if label is None or not festivals:
        return []
    # One evaluation per season touched by the run: at the run's last day inside that season.
    evaluations: dict[date, date] = {}
    day = first_on
    while day <= last_on:
        season = season_containing(day, festivals, season_days=rule.window_days)
        if season is not None:
            evaluations[season.festival_on] = min(last_on, season.ends_on)
            day = season.ends_on
        day += timedelta(days=1)
    findings = []
    for as_of in evaluations.values():
        season = season_containing(as_of, festivals, season_days=rule.window_days)
        finding = _seasonal_finding(region, season, as_of, festivals, label, rule)
        if finding is not None:
            findings.append(finding)
    return findings


def _count(region: str, type_id: int, first: date, last: date) -> int:
    return Case.objects.filter(_in_region(region), _registered(first, last), primary_type_id=type_id).count()


def _seasonal_finding(region, season, as_of, festivals, label, rule) -> Finding | None:
    elapsed = (as_of - season.starts_on).days + 1
    history_start = first_week_on_record(region, before=season.starts_on)
    count = _count(region, label.pk, season.starts_on, as_of)
    earlier = [f for f in festivals if f < season.festival_on][-rule.baseline_periods:]
    spans = [same_span_in_year(season, elapsed, f) for f in earlier]
    spans = [span for span in spans if history_start is not None and span[0] >= history_start]
    if spans:
        baseline = [_count(region, label.pk, first, last) for first, last in spans]
        basis = "往年春节前同期（" + "；".join(
            f"{first.year}年{first:%m-%d}至{last:%m-%d} {n} 件" for (first, last), n in zip(spans, baseline, strict=True)
        ) + "）"
    else:
        first, last = season.starts_on - timedelta(days=elapsed), season.starts_on - timedelta(days=1)
        if history_start is None or first < history_start:
            return None
        baseline = [_count(region, label.pk, first, last)]
        basis = f"往年同期无数据，以节前季之前的相同天数（{first:%Y-%m-%d}至{last:%Y-%m-%d}，{baseline[0]} 件）为基线"
    result = test_count(count, baseline, p_threshold=rule.p_value, min_count=rule.min_count)
    if not result.is_signal:
        return None
    ids = tuple(
        Case.objects.filter(_in_region(region), _registered(season.starts_on, as_of), primary_type_id=label.pk)
        .order_by("registered_at", "id").values_list("id", flat=True)
    )
    place = _region_names([region]).get(region, region)
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
        region=region, case_ids=ids, dispute_type_id=label.pk, period_start_on=season.starts_on, period_end_on=as_of,
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
