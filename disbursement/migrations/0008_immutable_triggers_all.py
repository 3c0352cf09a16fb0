"""Refuse in PostgreSQL itself what the models refuse in Python for the money's records.

Entitlement changes, roster and review signatures, roster events, county fund requests (with
the rosters they cover) and fund releases are written once. A roster frozen by its submission
keeps its content: only the county's verdict (state, return reason, who and when) is written
on it, its state moves only from submitted to returned or accepted, it is never deleted, and
its lines are never added, changed or removed.
"""

from django.db import migrations

IMMUTABLE_TABLES = (
    "disbursement_entitlementchange",
    "disbursement_rostersignature",
    "disbursement_rosterevent",
    "disbursement_countyfundrequest",
    "disbursement_countyfundrequest_rosters",
    "disbursement_fundrelease",
    "disbursement_reviewsignature",
)

# disbursement.models.FROZEN_STATES and COUNTY_VERDICT_FIELDS.
FROZEN = "'submitted', 'returned', 'accepted'"
VERDICT_COLUMNS = "ARRAY['state', 'returned_reason', 'decided_by_id', 'decided_at', 'updated_at']"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION dk_refuse_frozen_roster_change() RETURNS trigger AS $$
BEGIN
    IF OLD.state NOT IN ({FROZEN}) THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE of submitted roster % refused', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - {VERDICT_COLUMNS}) IS DISTINCT FROM (to_jsonb(OLD) - {VERDICT_COLUMNS}) THEN
        RAISE EXCEPTION 'UPDATE of submitted roster % refused: only the county''s verdict is written', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.state <> OLD.state
       AND NOT (OLD.state = 'submitted' AND NEW.state IN ('returned', 'accepted')) THEN
        RAISE EXCEPTION 'roster % may not move from % to %', OLD.id, OLD.state, NEW.state
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- Statement-level, over the transition table: one check per statement, not per line, so
-- generating a roster of many thousand lines pays one join.
CREATE OR REPLACE FUNCTION dk_refuse_frozen_roster_line_change() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM changed_lines l JOIN disbursement_paymentroster r ON r.id = l.roster_id
        WHERE r.state IN ({FROZEN})
    ) THEN
        RAISE EXCEPTION '% of lines of a submitted roster refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

LINE_TRIGGERS = (
    ("insert", "INSERT", "NEW TABLE AS changed_lines"),
    ("update_old", "UPDATE", "OLD TABLE AS changed_lines"),
    ("update_new", "UPDATE", "NEW TABLE AS changed_lines"),
    ("delete", "DELETE", "OLD TABLE AS changed_lines"),
)

CREATE = [
    FUNCTIONS,
    *(
        f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION dk_refuse_change();"
        for table in IMMUTABLE_TABLES
    ),
    "CREATE TRIGGER disbursement_paymentroster_frozen BEFORE UPDATE OR DELETE "
    "ON disbursement_paymentroster FOR EACH ROW EXECUTE FUNCTION dk_refuse_frozen_roster_change();",
    *(
        f"CREATE TRIGGER disbursement_rosterline_frozen_{name} AFTER {event} "
        f"ON disbursement_rosterline REFERENCING {table} FOR EACH STATEMENT "
        "EXECUTE FUNCTION dk_refuse_frozen_roster_line_change();"
        for name, event, table in LINE_TRIGGERS
    ),
]

DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in IMMUTABLE_TABLES),
    "DROP TRIGGER IF EXISTS disbursement_paymentroster_frozen ON disbursement_paymentroster;",
    *(
        f"DROP TRIGGER IF EXISTS disbursement_rosterline_frozen_{name} ON disbursement_rosterline;"
        for name, _, _ in LINE_TRIGGERS
    ),
    "DROP FUNCTION IF EXISTS dk_refuse_frozen_roster_change();",
    "DROP FUNCTION IF EXISTS dk_refuse_frozen_roster_line_change();",
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_immutable_triggers_all"),
        ("disbursement", "0007_review_open_due_index"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
