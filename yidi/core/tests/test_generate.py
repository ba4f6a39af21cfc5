"""The data-set generator of the benchmarks (`bench/generate.py`): copies are whole, consistent matters."""

import importlib.util
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from yidi.cases.models import Case, CaseEvent, CaseParty, Person
from yidi.core import clock
from yidi.core.models import CodeSequence

UNTIL = date(2026, 11, 20)


def _generator():
    path = Path(__file__).resolve().parents[3] / "bench" / "generate.py"
    spec = importlib.util.spec_from_file_location("bench_generate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_copies_are_whole_matters_of_their_template_with_dates_shifted_by_weeks(capsys):
    generate = _generator()
    with clock.at(timezone.make_aware(timezone.datetime(2026, 11, 20, 20, 0))):
        generate.build_templates("330681", 12, seed=3, until=UNTIL)
    templates = {case.pk: case for case in Case.objects.all()}
    generate.build_pool(1_000, seed=3)
    plan = generate.Plan(matters=300, years=2, seed=3, until=UNTIL, pool=1_000)

    copies = generate.copy_matters(plan, 1_000)
    generate.finish(plan, copies, 0.0)

    assert 0 < copies <= 300
    copied = list(Case.objects.exclude(pk__in=templates).order_by("id"))
    assert len(copied) == copies
    codes = [case.code for case in Case.objects.all()]
    assert len(codes) == len(set(codes))  # one code each, continuing each year's sequence
    for year, count in Counter(int(code.split("-")[1]) for code in codes).items():
        assert CodeSequence.objects.get(prefix="330681", year=year).last_value == max(
            int(code.split("-")[2]) for code in codes if int(code.split("-")[1]) == year) >= count
    events = Counter(CaseEvent.objects.values_list("case_id", flat=True))
    parties = Counter(CaseParty.objects.values_list("case_id", flat=True))
    latest = max(CaseEvent.objects.filter(case_id__in=templates).values_list("at", flat=True))
    for case in copied:
        template = min(templates.values(), key=lambda t: (t.status != case.status, t.title != case.title,
                                                         abs((t.registered_at - case.registered_at).days) % 7))
        shift = case.registered_at - template.registered_at
        assert shift.total_seconds() % (7 * 86400) == 0  # whole weeks: working days stay working days
        assert (case.status, case.title, case.lead_unit_id) == (template.status, template.title, template.lead_unit_id)
        assert events[case.pk] == events[template.pk] and parties[case.pk] == parties[template.pk]
    assert max(CaseEvent.objects.values_list("at", flat=True)) <= latest  # nothing beyond the templates' present
    assert min(case.registered_at for case in copied).date() >= UNTIL - timedelta(days=2 * 365 + 7)
    # parties come from the pool of persons: readable, and some people come back
    pooled = Counter(CaseParty.objects.exclude(case_id__in=templates).values_list("person_id", flat=True))
    assert max(pooled.values()) > 1
    person = Person.objects.get(pk=next(iter(pooled)))
    assert len(person.phone) == 11 and person.phone_hash
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "bench_clone_map" not in tables and "bench_person_pool" not in tables
