from django.conf import settings
from django.db import migrations

from yidi.audit import domain

BATCH = 2000


def seal_existing_events(apps, schema_editor):
    """Number the rows written before the chain existed in insertion order and seal them with the current key."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    key = domain.derive_key(getattr(settings, "AUDIT_HMAC_KEY", "") or settings.SECRET_KEY)
    columns = [name for name in domain.CHAINED_FIELDS if name not in ("seq", "key_id")]
    seq, prev_mac = 0, domain.GENESIS_MAC
    pending = []
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=BATCH):
        seq += 1
        event.seq, event.key_id, event.prev_mac = seq, key.key_id, prev_mac
        values = [seq, key.key_id, *(getattr(event, name) for name in columns)]
        event.mac = prev_mac = domain.row_mac(values, prev_mac=event.prev_mac, mac_key=key.mac_key)
        pending.append(event)
        if len(pending) >= BATCH:
            AuditEvent.objects.bulk_update(pending, ["seq", "key_id", "prev_mac", "mac"])
            pending = []
    if pending:
        AuditEvent.objects.bulk_update(pending, ["seq", "key_id", "prev_mac", "mac"])
    AuditChainHead.objects.update_or_create(id=1, defaults={"last_seq": seq, "last_mac": prev_mac})


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_add_chain_fields"),
    ]

    operations = [
        migrations.RunPython(seal_existing_events, migrations.RunPython.noop),
    ]
