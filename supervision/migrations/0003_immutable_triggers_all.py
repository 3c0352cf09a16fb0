"""Refuse in PostgreSQL itself UPDATE and DELETE of supervision's written-once records:
spot-check photos, bulletins and revocations (what `ImmutableModel` refuses in Python)."""

from django.db import migrations

IMMUTABLE_TABLES = (
    "supervision_spotcheckphoto",
    "supervision_bulletin",
    "supervision_revocation",
)

CREATE = [
    f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION dk_refuse_change();"
    for table in IMMUTABLE_TABLES
]

DROP = [f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in IMMUTABLE_TABLES]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_immutable_triggers_all"),
        ("supervision", "0002_dashboard_summary_and_open_finding_index"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
