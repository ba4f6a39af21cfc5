"""The demo's wage-arrears cluster before the Spring Festival is raised by the detection."""

from datetime import date

import pytest

from yidi.accounts.models import User
from yidi.supervision.demo import seed_wage_arrears_cluster
from yidi.supervision.models import Alert

pytestmark = pytest.mark.django_db


def test_the_demo_cluster_is_raised_before_the_festival_and_seeding_twice_adds_nothing(registrar):
    User.objects.filter(pk=registrar.pk).update(username="registrar")

    alert = seed_wage_arrears_cluster(until=date(2026, 11, 28))
    again = seed_wage_arrears_cluster(until=date(2026, 11, 28))

    assert alert is not None and again.pk == alert.pk
    assert (alert.kind, alert.severity, alert.alert_cases.count()) == ("cluster", "orange", 12)  # 12 ≥ 10 people
    assert alert.detected_at.date() == date(2026, 2, 12)  # five days before the 2026 festival (17 Feb)
    assert "诸暨市枫华建筑工程有限公司" in alert.title
    assert Alert.objects.filter(kind="cluster").count() == 1
