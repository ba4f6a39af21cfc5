"""The system administrator manages subscriptions in the admin; the signing secret is write-only."""

from yidi.audit.models import AuditEvent
from yidi.webhooks.models import WebhookSubscription

URL = "/admin/webhooks/webhooksubscription/"
SECRET = "county-partner-secret-0001"


def form(**overrides) -> dict:
    return {"name": "市12345平台", "url": "https://partner.example.cn/hooks", "new_secret": SECRET,
            "event_types": ["case.accepted", "case.closed"], "region_scope": "330681", "is_active": "on",
            **overrides}


def test_the_system_admin_adds_a_subscription_and_never_sees_its_secret_again(client, admin):
    client.force_login(admin)

    added = client.post(f"{URL}add/", form())

    assert added.status_code == 302
    subscription = WebhookSubscription.objects.get()
    assert (subscription.secret, subscription.event_types, subscription.region_scope) == (
        SECRET, ["case.accepted", "case.closed"], "330681")
    change_page = client.get(f"{URL}{subscription.pk}/change/").content.decode()
    assert SECRET not in change_page and SECRET not in client.get(URL).content.decode()
    event = AuditEvent.objects.get(action="webhooks.add_subscription", actor=admin)
    assert SECRET not in str(event.data) and "secret" in event.fields


def test_a_blank_secret_keeps_the_old_one_on_change(client, admin):
    client.force_login(admin)
    client.post(f"{URL}add/", form())
    subscription = WebhookSubscription.objects.get()

    changed = client.post(f"{URL}{subscription.pk}/change/", form(new_secret="", name="市12345平台（新）"))

    assert changed.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.secret) == ("市12345平台（新）", SECRET)


def test_the_admin_refuses_an_http_url_to_a_public_host_and_a_missing_secret(client, admin):
    client.force_login(admin)

    response = client.post(f"{URL}add/", form(url="http://partner.example.cn/hooks", new_secret=""))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"url": ["回调地址须使用 https（仅本机地址或开发环境可用 http）"], "new_secret": ["请设置签名密钥"]}
    assert not WebhookSubscription.objects.exists()


def test_business_staff_cannot_see_subscriptions(client, dispatcher):
    client.force_login(dispatcher)
    assert client.get(URL).status_code == 302
