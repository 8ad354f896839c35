"""On PostgreSQL the audit tables refuse UPDATE and DELETE in the database itself.

Written as plain SQL rather than with django-pgtrigger because one of the tables belongs to a
third-party app (django-auditlog) whose models we cannot annotate. SQLite (the embedded default)
has no such guard; the admin and API refuse edits there too.
"""

from django.db import migrations

TABLES = ["audit_accessevent", "auditlog_logentry"]

FUNCTION = """
CREATE OR REPLACE FUNCTION scrm_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def protect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION scrm_audit_append_only()"
        )
    schema_editor.execute(
        "CREATE INDEX audit_event_object_ids_gin ON audit_accessevent USING gin (object_ids jsonb_path_ops)"
    )


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS scrm_audit_append_only()")
    schema_editor.execute("DROP INDEX IF EXISTS audit_event_object_ids_gin")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(protect, unprotect)]
