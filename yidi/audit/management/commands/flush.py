"""Django's `flush`, able to empty the append-only audit table too.

`flush` empties every table (the committing tests between runs, `seed_demo --reset`); the audit triggers
would refuse it. This command lifts them inside the flush's own transaction and puts them back before it
commits, so they are never off for anyone else. Whoever can run it can also switch the triggers off by
hand: what reveals an emptied log is the chain head and the checkpoints kept outside the database, which
`audit_verify` compares (the rows they record are gone). Production runs should not need `flush`.
"""

import importlib

from django.core.management.commands import flush
from django.db import connections

from yidi.audit.models import AuditEvent

triggers = importlib.import_module("yidi.audit.migrations.0005_append_only_triggers")


def _around(connection) -> tuple[list[str], list[str]]:
    """The statements that lift and restore the audit triggers on this database (none if there is no table)."""
    table = AuditEvent._meta.db_table
    if table not in connection.introspection.table_names():
        return [], []
    if connection.vendor == "postgresql":
        quoted = connection.ops.quote_name(table)
        return [f"ALTER TABLE {quoted} DISABLE TRIGGER USER"], [f"ALTER TABLE {quoted} ENABLE TRIGGER USER"]
    if connection.vendor == "sqlite":
        return list(triggers.SQLITE_REMOVE), [*triggers.SQLITE_REMOVE, *triggers.SQLITE_INSTALL]
    return [], []


class Command(flush.Command):
    help = flush.Command.help + "（审计日志的只追加触发器在清空所用的同一事务中暂时解除，提交前恢复。）"

    def handle(self, **options):
        connection = connections[options["database"]]
        lift, restore = _around(connection)
        if not lift:
            return super().handle(**options)
        execute = connection.ops.execute_sql_flush

        def execute_with_triggers_lifted(sql_list):
            return execute([*lift, *sql_list, *restore] if sql_list else sql_list)

        connection.ops.execute_sql_flush = execute_with_triggers_lifted
        try:
            return super().handle(**options)
        finally:
            del connection.ops.execute_sql_flush
