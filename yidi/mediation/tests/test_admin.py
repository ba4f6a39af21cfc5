"""The mediator pool and the named rooms in the admin (系统管理员): Chinese names, audited saves, role check."""

import pytest

from yidi.accounts import domain as accounts_domain
from yidi.accounts.domain import Role
from yidi.audit.models import AuditEvent
from yidi.core.models import TaxonomyLabel
from yidi.mediation.models import Mediator


@pytest.fixture
def admin_client(admin, client):
    """The system admin: the pool and the rooms are reference data in its admin scope."""
    client.force_login(admin)
    return client


def test_the_pool_and_the_rooms_are_listed_in_chinese(admin_client, wu, yang):
    index = admin_client.get("/admin/").content.decode()
    assert "人民调解" in index and "调解专家库" in index and "品牌调解室" in index
    listing = admin_client.get("/admin/mediation/mediator/").content.decode()
    assert "吴调解" in listing and "杨光明" in listing and "首席调解员" in listing
    assert admin_client.get("/admin/mediation/mediationroom/").status_code == 200


def test_adding_a_profile_needs_the_mediator_role_and_is_audited(admin_client, registrar, mediator):
    neighbour = TaxonomyLabel.objects.get(taxonomy__code="mediation_type", code="neighbour")
    form = {
        "organisation_type": "people", "grade": "second", "specialties": [neighbour.pk], "region": "330681109290",
        "languages": "诸暨话", "availability": "available", "capacity": "5", "training_hours": "20",
        "complaints": "0", "is_active": "on",
    }
    refused = admin_client.post("/admin/mediation/mediator/add/", {**form, "user": registrar.pk})
    assert refused.status_code == 200 and "该账号没有“调解员”角色" in refused.content.decode()
    assert not Mediator.objects.exists()

    saved = admin_client.post("/admin/mediation/mediator/add/", {**form, "user": mediator.pk})

    assert saved.status_code == 302
    profile = Mediator.objects.get(user=mediator)
    assert (profile.grade, list(profile.specialties.values_list("code", flat=True))) == ("second", ["neighbour"])
    audit = AuditEvent.objects.latest("id")
    assert (audit.action, audit.object_id, audit.actor_username) == ("mediation.add_mediator", str(profile.pk),
                                                                    "sysadmin")


def test_the_pool_is_in_the_system_admins_scope_only(admin, client):
    assert accounts_domain.admin_site_allows(frozenset({Role.SYSTEM_ADMIN}), "mediation", "mediator")
    assert not accounts_domain.admin_site_allows(frozenset({Role.SECURITY_ADMIN}), "mediation", "mediator")
    assert not accounts_domain.admin_site_allows(frozenset({Role.SYSTEM_ADMIN}), "mediation", "mediation")
    client.force_login(admin)
    assert client.get("/admin/mediation/mediation/").status_code == 404  # the mediations are not in the admin at all
