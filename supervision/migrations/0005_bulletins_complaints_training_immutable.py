"""Refuse in PostgreSQL itself UPDATE and DELETE of the new written-once records: county
signatures, rectification attachments, reply letters, acceptances, revocation decisions,
library versions and training attendance."""

from django.db import migrations

IMMUTABLE_TABLES = (
    "supervision_countysignature",
    "supervision_rectificationattachment",
    "supervision_complaintreply",
    "supervision_agencyacceptance",
    "supervision_revocationdecision",
    "supervision_trainingmaterialversion",
    "supervision_attendance",
)

CREATE = [
    f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION dk_refuse_change();"
    for table in IMMUTABLE_TABLES
]

DROP = [f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in IMMUTABLE_TABLES]


class Migration(migrations.Migration):
    dependencies = [("supervision", "0004_bulletins_complaints_training")]

    operations = [migrations.RunSQL(CREATE, DROP)]
