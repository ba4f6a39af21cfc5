"""For tests that commit for real (two threads, two connections) and must leave the audit log as they found
it: snapshot the chain heads, then remove what was appended after them and put the heads back."""

from django.db import connection, transaction

from yidi.audit.models import AuditChainHead, AuditEvent


def snapshot_heads() -> dict[int, tuple[int, str]]:
    return {chain: (seq, mac) for chain, seq, mac in AuditChainHead.objects.values_list("id", "last_seq", "last_mac")}


def restore_heads(heads: dict[int, tuple[int, str]]) -> None:
    """Delete every row appended to any chain after `heads` and restore the head rows (PostgreSQL: the
    append-only triggers are off for the moment of the delete, inside one transaction)."""
    table, head_table = AuditEvent._meta.db_table, AuditChainHead._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for chain in set(AuditEvent.objects.values_list("chain", flat=True).distinct()) | set(heads):
            cursor.execute(f"DELETE FROM {table} WHERE chain = %s AND seq > %s", [chain, heads.get(chain, (0, ""))[0]])  # noqa: S608
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute(f"DELETE FROM {head_table}")  # noqa: S608
        for chain, (seq, mac) in heads.items():
            cursor.execute(f"INSERT INTO {head_table} (id, last_seq, last_mac) VALUES (%s, %s, %s)", [chain, seq, mac])  # noqa: S608
