"""Refuse in PostgreSQL itself what `ImmutableModel` refuses in Python, for every record of a case
that someone signed or entered once, and the decision itself once a case is decided.

0003 covered events, signatures, their voids, documents, handover signatures and archive
destructions; this adds the rest of the workflow's records. A decided case keeps its decision:
its number, household, applicant, kind, area, dates, outcome, care tier, amount and reasons
stay as decided; its state moves only forward (approved, in payment, standing publicity,
terminated; never back to a state whose fields could be edited again) and the termination
reason is written once, by the termination. Later changes of
the amount go through the entitlement's change records, never through the case.
"""

from django.db import migrations

IMMUTABLE_TABLES = (
    "cases_applicantconsent",
    "cases_verificationrequest",
    "cases_verificationreport",
    "cases_homevisit",
    "cases_democraticappraisal",
    "cases_incomeassessment",
    "cases_publicity",
    "cases_casefile",
)

# cases.models.DECIDED_STATES, and the moves the workflow makes from them, taken together
# (approved then in payment is one move forward): a decided case never goes back.
DECIDED_STATES = (
    "confirmed",
    "approved",
    "rejected",
    "in_payment",
    "standing_publicity",
    "terminated",
)
APPROVAL_PATH = "confirmed", "approved", "in_payment", "standing_publicity"
DECIDED_MOVES = (
    ("confirmed", "rejected"),
    *((old, new) for i, old in enumerate(APPROVAL_PATH) for new in APPROVAL_PATH[i + 1 :]),
    *((old, "terminated") for old in APPROVAL_PATH),
)
DECIDED_FIELDS = (
    "number",
    "unit_id",
    "household_id",
    "applicant_id",
    "kind",
    "area",
    "submitted_at",
    "accepted_on",
    "due_date",
    "extended",
    "extension_reason",
    "decided_on",
    "decided_on_time",
    "outcome",
    "care_tier",
    "monthly_amount",
    "rejection_reason",
    "refusal_reason",
    "withdrawal_reason",
    "created_at",
)


def _list(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _row(prefix: str) -> str:
    return ", ".join(f"{prefix}.{field}" for field in DECIDED_FIELDS)


FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION dk_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: signed or archived records are immutable', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION dk_refuse_decided_case_change() RETURNS trigger AS $$
BEGIN
    IF OLD.state NOT IN ({_list(DECIDED_STATES)}) THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE of decided case % refused', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF ROW({_row("NEW")}) IS DISTINCT FROM ROW({_row("OLD")}) THEN
        RAISE EXCEPTION 'UPDATE of the decision of case % refused: a decided case keeps its decision', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.state <> OLD.state
       AND (OLD.state, NEW.state) NOT IN ({", ".join(f"({_list(m)})" for m in DECIDED_MOVES)}) THEN
        RAISE EXCEPTION 'case % may not move from % to %', OLD.number, OLD.state, NEW.state
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.termination_reason IS DISTINCT FROM OLD.termination_reason
       AND NOT (NEW.state = 'terminated' AND OLD.state <> 'terminated') THEN
        RAISE EXCEPTION 'the termination reason of case % is written only by its termination', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

CREATE = [
    FUNCTIONS,
    *(
        f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION dk_refuse_change();"
        for table in IMMUTABLE_TABLES
    ),
    "CREATE TRIGGER cases_case_decided BEFORE UPDATE OR DELETE ON cases_case "
    "FOR EACH ROW EXECUTE FUNCTION dk_refuse_decided_case_change();",
]

DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in IMMUTABLE_TABLES),
    "DROP TRIGGER IF EXISTS cases_case_decided ON cases_case;",
    "DROP FUNCTION IF EXISTS dk_refuse_decided_case_change();",
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_case_number_counter"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
