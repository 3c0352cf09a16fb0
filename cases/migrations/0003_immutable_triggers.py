"""On PostgreSQL, refuse UPDATE and DELETE of signed and archived rows in the database itself,
so no path around the application (a shell, a script, a bad migration) can change them.

The audit log may only lose its user link (ON DELETE SET NULL of a removed account).
"""

from django.db import migrations

IMMUTABLE_TABLES = (
    "cases_caseevent",
    "cases_signature",
    "cases_signaturevoid",
    "cases_document",
    "cases_handoversignature",
    "cases_archivedestruction",
)

FUNCTIONS = """
CREATE OR REPLACE FUNCTION dk_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: signed or archived records are immutable', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION dk_refuse_auditlog_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL
       AND (NEW.id, NEW.at, NEW.action, NEW.username, NEW.ip_address, NEW.path,
            NEW.object_type, NEW.object_id, NEW.detail)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.action, OLD.username, OLD.ip_address, OLD.path,
            OLD.object_type, OLD.object_id, OLD.detail) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on % refused: the audit log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _execute(schema_editor, statements: list[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in statements:
        # params=None: the plpgsql body holds literal % placeholders of RAISE.
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor) -> None:
    statements = [FUNCTIONS]
    for table in IMMUTABLE_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dk_refuse_change();"
        )
    statements.append(
        "CREATE TRIGGER accounts_auditlog_immutable BEFORE UPDATE OR DELETE ON accounts_auditlog "
        "FOR EACH ROW EXECUTE FUNCTION dk_refuse_auditlog_change();"
    )
    _execute(schema_editor, statements)


def drop_triggers(apps, schema_editor) -> None:
    statements = [
        f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in IMMUTABLE_TABLES
    ]
    statements += [
        "DROP TRIGGER IF EXISTS accounts_auditlog_immutable ON accounts_auditlog;",
        "DROP FUNCTION IF EXISTS dk_refuse_change();",
        "DROP FUNCTION IF EXISTS dk_refuse_auditlog_change();",
    ]
    _execute(schema_editor, statements)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("cases", "0002_documents"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
