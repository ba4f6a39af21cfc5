"""The portal's service account: created once, role citizen, cannot log in, registers for the centre."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from yidi.accounts.auth import check_password_login
from yidi.accounts.domain import UnitKind
from yidi.accounts.models import User
from yidi.cases.builders import make_unit
from yidi.portal.actions import portal_actor

pytestmark = pytest.mark.django_db


def test_the_service_account_is_created_once_as_a_citizen_of_the_centre():
    first = portal_actor()
    second = portal_actor()
    assert first.pk == second.pk and User.objects.filter(username="portal-service").count() == 1
    assert (first.display_name, first.role_codes, first.unit.code) == ("群众网上自助", ["citizen"], "centre")
    assert not first.has_usable_password()


def test_the_service_account_cannot_log_in():
    portal_actor()
    assert check_password_login(username="portal-service", password="", source_ip="10.0.0.1") is None


@override_settings(YIDI_PORTAL_UNIT="fq-centre")
def test_the_setting_chooses_the_unit():
    assert portal_actor().unit.code == "fq-centre"


@override_settings(YIDI_PORTAL_UNIT="")
def test_two_centres_without_the_setting_is_an_error():
    make_unit("centre-2", kind=UnitKind.CENTRE, region_code="330681", name="第二中心")
    with pytest.raises(ImproperlyConfigured, match="YIDI_PORTAL_UNIT"):
        portal_actor()


def test_the_portal_keeps_registering_after_the_inactive_account_job_ran(client):
    """The service account never logs in; `disable_inactive_accounts` leaves it alone, and the portal goes on."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from yidi.accounts.auth import do_disable_inactive_accounts
    from yidi.cases.builders import make_draft

    actor = portal_actor()
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        disabled = do_disable_inactive_accounts()
        from yidi.cases.actions import do_register_case

        case = do_register_case(make_draft(channel_code="online", in_person=False), actor=portal_actor())
    assert "portal-service" not in disabled
    actor.refresh_from_db()
    assert actor.is_active
    assert case.registered_by_id == actor.pk
