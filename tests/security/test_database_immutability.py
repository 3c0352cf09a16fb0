"""Signed and written-once records stay as written below the application too.

The tests sign in as the application's runtime role, granted by `grant_runtime_role` as in
production (rows only, no TRUNCATE, no TRIGGER, not the owner), and try every ORM and SQL
path that writes to each immutable table: none succeeds. The runtime role signs in through
the default connection itself (its user switched for the test), so ORM paths run as the
runtime role too; the test's rows are committed (transactional tests) and visible to it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection, models, transaction

from accounts.audit import record
from accounts.models import AuditLog
from cases.documents.services import issue_document
from cases.events import record_event, sign
from cases.facts.services import record_fact_change
from cases.models import (
    ArchiveDestruction,
    Case,
    CaseFile,
    DocType,
    FactChannel,
    GlassSignature,
    Handover,
    HandoverSignature,
    ImmutableModel,
    Signature,
    SignatureStep,
    SignatureVoid,
    State,
)
from disbursement.models import (
    CountyFundRequest,
    FundDemandPlanSignature,
    FundDemandPlanSubmission,
    FundRelease,
    PaymentRoster,
    PlanStep,
    Review,
    ReviewSignature,
    ReviewStep,
    ReviewTrigger,
    RosterLine,
    RosterState,
)
from disbursement.services import generate_roster, submit_roster
from supervision.models import (
    AgencyAcceptance,
    Attendance,
    Bulletin,
    Complaint,
    ComplaintReply,
    CountySignature,
    Finding,
    Rectification,
    RectificationAttachment,
    Revocation,
    RevocationDecision,
    SpotCheckDraw,
    SpotCheckPhoto,
    SpotCheckSample,
    TrainingMaterial,
    TrainingMaterialVersion,
    TrainingSession,
)

from ..conftest import signing_otp
from ..disbursement.conftest import DECEMBER, IN_WINDOW, entitled, sign_all
from ..documents.builders import make_case

RUNTIME_ROLE = "dk_runtime_test"
# Trust authentication (CI, this machine) ignores it; password authentication uses it.
RUNTIME_PASSWORD = "dk-runtime-test"
TAMPERED = "篡改"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def runtime_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [RUNTIME_ROLE])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {RUNTIME_ROLE} LOGIN PASSWORD %s", [RUNTIME_PASSWORD])
    call_command("grant_runtime_role", RUNTIME_ROLE, stdout=StringIO())
    return RUNTIME_ROLE


@contextmanager
def signed_in_as(role: str):
    """Reconnect the default connection as `role`; the owner again afterwards (for the flush)."""
    settings = connection.settings_dict
    saved = settings["USER"], settings["PASSWORD"]
    connection.close()
    settings["USER"], settings["PASSWORD"] = role, RUNTIME_PASSWORD
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == role
        yield
    finally:
        connection.close()
        settings["USER"], settings["PASSWORD"] = saved


def immutable_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, ImmutableModel)] + [AuditLog]


@pytest.fixture
def records(people, standards) -> dict[type[models.Model], int]:
    """One committed row of every immutable table, from a case's workflow to the county."""
    case = make_case(people, State.APPROVED)
    document = issue_document(case=case, doc_type=DocType.APPROVAL_DECISION, actor=people.handler)
    CaseFile.objects.create(
        case=case,
        category="material",
        file=ContentFile(b"%PDF-1.4\n", name="id.pdf"),
        original_name="id.pdf",
        mime="application/pdf",
        size=9,
        sha256="0" * 64,
        uploaded_by=people.handler,
    )
    SignatureVoid.objects.create(signature=case.signatures.first(), reason="测试")
    handover = Handover.objects.create(
        unit=people.unit_a,
        from_handler=people.handler,
        to_handler=people.handler2,
        created_by=people.handler,
    )
    HandoverSignature.create_signed(
        signer=people.handler, role="handler", over={}, handover=handover, party="from_handler"
    )
    ArchiveDestruction.create_signed(
        signer=people.first, role="first_responsible", over={}, case=case,
        expired_on=date(2026, 1, 1), reason="测试",
    )  # fmt: skip
    GlassSignature.create_signed(
        signer=people.assistant, role="village_assistant", over={}, case=case,
        document="consent", person_name="测试", document_text="测试", text_hash="0" * 64,
        image=b"\x89PNG", image_hash="0" * 64,
    )  # fmt: skip
    revocation_signature = sign(
        case,
        step=SignatureStep.REVOCATION,
        signer=people.supervisor,
        role="county_supervisor",
        otp_token=signing_otp(people.supervisor),
    )
    Revocation.objects.create(
        case=case,
        reason="测试",
        stop_from=DECEMBER,
        signature=revocation_signature,
        revoked_by=people.supervisor,
    )
    draw = SpotCheckDraw.objects.create(
        period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), seed=1, method="测试"
    )
    sample = SpotCheckSample.objects.create(
        draw=draw, case=case, unit=people.unit_a, kind=case.kind, stratum_size=1
    )
    SpotCheckPhoto.objects.create(
        sample=sample,
        file=ContentFile(b"\x89PNG", name="p.png"),
        mime="image/png",
        size=4,
        sha256="0" * 64,
        uploaded_by=people.supervisor,
    )
    Bulletin.objects.create(
        period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30),
        title="通报",
        file=ContentFile(b"%PDF-1.4\n", name="b.pdf"),
        sha256="0" * 64,
        issued_by=people.supervisor,
    )
    _county_records(people, case, revocation_signature)
    entitlement = entitled(people.village_a, actor=people.handler, seed=1)
    with time_machine.travel(IN_WINDOW, tick=False):
        roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
        sign_all(roster, people)
        submit_roster(roster=roster, actor=people.handler)
    request = CountyFundRequest.objects.create(
        month=DECEMBER, total_amount=Decimal("670"), line_count=1, created_by=people.finance
    )
    request.rosters.add(roster)
    FundRelease.objects.create(
        unit=people.unit_a,
        month=DECEMBER,
        amount=Decimal("670"),
        released_on=date(2026, 12, 5),
        recorded_by=people.finance,
    )
    review = Review.objects.create(
        entitlement=entitlement,
        case=entitlement.case,
        household=entitlement.household,
        unit=entitlement.unit,
        village=entitlement.village,
        trigger=ReviewTrigger.MANUAL,
        opened_on=date(2026, 12, 1),
        due_on=date(2026, 12, 31),
    )
    ReviewSignature.create_signed(
        signer=people.handler, role="handler", over={}, review=review, step=ReviewStep.PROPOSAL
    )
    record_fact_change(
        case=entitlement.case,
        actor=people.handler,
        reason="复核发现存款",
        subject="asset",
        operation="add",
        values={"kind": "deposit", "value": "100"},
        channel=FactChannel.REVIEW,
        channel_ref=review.pk,
    )
    FundDemandPlanSignature.create_signed(
        signer=people.finance,
        role="county_finance",
        over={},
        year=2027,
        step=PlanStep.PREPARE,
        total=Decimal("670"),
    )
    FundDemandPlanSubmission.objects.create(
        year=2027, total=Decimal("670"), submitted_by=people.finance
    )
    record(AuditLog.Action.SENSITIVE_READ, detail="测试")
    assert document.pk
    rows = {
        m: m._base_manager.order_by("pk").values_list("pk", flat=True).first()
        for m in immutable_models()
    }
    missing = [m._meta.label for m, pk in rows.items() if pk is None]
    assert not missing, f"the scene wrote no row of {missing}"
    return rows


def _county_records(people, case, revocation_signature) -> None:
    """One row of each written-once record of the county's supervision and training."""

    def signed(act):
        return CountySignature.create_signed(
            signer=people.supervisor, role="county_supervisor", over={}, act=act
        )

    pdf = {"sha256": "0" * 64}
    finding = Finding.objects.create(rule="spot_check", case=case, unit=people.unit_a)
    rectification = Rectification.objects.create(
        finding=finding,
        unit=people.unit_a,
        instruction="整改",
        due_on=date(2026, 12, 31),
        ordered_by=people.supervisor,
    )
    RectificationAttachment.objects.create(
        rectification=rectification,
        file=ContentFile(b"%PDF-1.4\n", name="r.pdf"),
        original_name="r.pdf",
        mime="application/pdf",
        size=9,
        uploaded_by=people.handler,
        **pdf,
    )
    complaint = Complaint.objects.create(
        received_on=date(2026, 12, 1),
        channel="letter",
        subject="测试",
        due_on=date(2027, 1, 30),
        registered_by=people.supervisor,
    )
    ComplaintReply.objects.create(
        complaint=complaint,
        number="磴民政信复〔2026〕1号",
        issued_on=date(2026, 12, 5),
        signature=signed("complaint_reply"),
        file=ContentFile(b"%PDF-1.4\n", name="c.pdf"),
        **pdf,
    )
    AgencyAcceptance.objects.create(
        agency=people.agency,
        year=2026,
        number="磴民政验〔2026〕1号",
        passed=True,
        signature=signed("acceptance"),
        file=ContentFile(b"%PDF-1.4\n", name="a.pdf"),
        issued_on=date(2026, 12, 5),
        **pdf,
    )
    revocation = Revocation.objects.get(signature=revocation_signature)
    RevocationDecision.objects.create(
        revocation=revocation,
        number="磴民政撤〔2026〕1号",
        issued_on=date(2026, 12, 5),
        signature=signed("revocation_decision"),
        file=ContentFile(b"%PDF-1.4\n", name="d.pdf"),
        **pdf,
    )
    material = TrainingMaterial.objects.create(
        title="政策", category="policy", created_by=people.supervisor
    )
    TrainingMaterialVersion.objects.create(
        material=material,
        number=1,
        file=ContentFile(b"%PDF-1.4\n", name="m.pdf"),
        original_name="m.pdf",
        mime="application/pdf",
        size=9,
        uploaded_by=people.supervisor,
        **pdf,
    )
    session = TrainingSession.objects.create(
        topic="培训",
        held_on=date(2026, 12, 1),
        place="县民政局",
        trainer="郑监管",
        audiences=["staff"],
        planned_by=people.supervisor,
    )
    Attendance.create_signed(
        signer=people.handler,
        role="handler",
        over={},
        session=session,
        trainee=people.handler,
        trainee_unit=people.unit_a,
        method="self",
    )


def _text_field(model: type[models.Model]) -> models.Field:
    return next(
        f for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)
    )


def _changed(model, pk):
    row = model._base_manager.get(pk=pk)
    setattr(row, _text_field(model).attname, TAMPERED)
    return row


def _update(manager, model, pk):
    return manager.filter(pk=pk).update(**{_text_field(model).name: TAMPERED})


ORM_PATHS: dict[str, Callable] = {
    "save() of a changed row": lambda m, pk: _changed(m, pk).save(),
    "save(update_fields=…)": lambda m, pk: _changed(m, pk).save(
        update_fields=[_text_field(m).name]
    ),
    "Model.save() past the override": lambda m, pk: models.Model.save(_changed(m, pk)),
    "delete()": lambda m, pk: m._base_manager.get(pk=pk).delete(),
    "Model.delete() past the override": lambda m, pk: models.Model.delete(
        m._base_manager.get(pk=pk)
    ),
    "objects.update()": lambda m, pk: _update(m.objects, m, pk),
    "_base_manager.update()": lambda m, pk: _update(m._base_manager, m, pk),
    "objects queryset delete()": lambda m, pk: m.objects.filter(pk=pk).delete(),
    "_base_manager queryset delete()": lambda m, pk: m._base_manager.filter(pk=pk).delete(),
    "_raw_delete()": lambda m, pk: m._base_manager.filter(pk=pk)._raw_delete(connection.alias),
    "bulk_update()": lambda m, pk: m._base_manager.bulk_update(
        [_changed(m, pk)], [_text_field(m).name]
    ),
}


def _triggers(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def _sql_paths(table: str, column: str, pk: int, trigger: str) -> dict[str, tuple[str, list]]:
    return {
        "raw UPDATE": (f"UPDATE {table} SET {column} = %s WHERE id = %s", [TAMPERED, pk]),
        "raw DELETE": (f"DELETE FROM {table} WHERE id = %s", [pk]),
        "TRUNCATE": (f"TRUNCATE {table} CASCADE", []),
        "ALTER TABLE … DISABLE TRIGGER": (f"ALTER TABLE {table} DISABLE TRIGGER {trigger}", []),
        "ALTER TABLE … DISABLE TRIGGER ALL": (f"ALTER TABLE {table} DISABLE TRIGGER ALL", []),
        "DROP TRIGGER": (f"DROP TRIGGER {trigger} ON {table}", []),
    }


GLOBAL_SQL = {
    "SET session_replication_role = replica": "SET session_replication_role = replica",
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION dk_refuse_change() RETURNS trigger AS "
        "$$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql"
    ),
    "DROP FUNCTION … CASCADE": "DROP FUNCTION dk_refuse_change() CASCADE",
}


class _WentThrough(Exception):
    pass


def _attempt(write: Callable[..., object], *args: object) -> bool:
    """True when the write went through; it is rolled back either way, so each attempt meets
    the same rows."""
    try:
        with transaction.atomic():
            write(*args)
            raise _WentThrough
    except _WentThrough:
        return True
    except Exception:  # noqa: BLE001 - any refusal counts: privilege, trigger or the model
        return False


def _execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_every_write_path_against_every_immutable_table_fails_as_the_runtime_role(
    records, runtime_role
):
    tables = {m._meta.db_table: (m, pk) for m, pk in records.items()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM disbursement_countyfundrequest_rosters")
        m2m_pk = cursor.fetchone()[0]
    triggers = {
        table: _triggers(table) for table in [*tables, "disbursement_countyfundrequest_rosters"]
    }
    assert all(triggers.values()), [t for t, names in triggers.items() if not names]
    attempts, succeeded = 0, []

    with signed_in_as(runtime_role):
        for model, pk in records.items():
            for path, write in ORM_PATHS.items():
                attempts += 1
                if _attempt(write, model, pk):
                    succeeded.append((model._meta.db_table, path))
        sql_targets = [(t, _text_field(m).column, pk) for t, (m, pk) in tables.items()]
        sql_targets.append(("disbursement_countyfundrequest_rosters", "paymentroster_id", m2m_pk))
        for table, column, pk in sql_targets:
            for path, (sql, params) in _sql_paths(table, column, pk, triggers[table][0]).items():
                attempts += 1
                if _attempt(_execute, sql, params):
                    succeeded.append((table, path))
        for path, sql in GLOBAL_SQL.items():
            attempts += 1
            if _attempt(_execute, sql):
                succeeded.append(("*", path))

    assert attempts == len(records) * len(ORM_PATHS) + (len(records) + 1) * 6 + len(GLOBAL_SQL)
    print(f"{attempts} writes against {len(records) + 1} tables as {runtime_role}: 0 went through")
    assert succeeded == [], f"{len(succeeded)} of {attempts} writes went through: {succeeded}"
    for model, pk in records.items():
        row = model._base_manager.get(pk=pk)
        assert getattr(row, _text_field(model).attname) != TAMPERED, model._meta.label
    assert {table: _triggers(table) for table in triggers} == triggers


def test_the_app_user_on_the_default_connection_meets_the_triggers_on_every_orm_path(records):
    """The owner (tests' own user) is refused too: by the model in Python, else by the trigger."""
    succeeded = [
        (model._meta.db_table, path)
        for model, pk in records.items()
        for path, write in ORM_PATHS.items()
        if _attempt(write, model, pk)
    ]
    assert succeeded == []


def test_each_immutable_table_has_its_refusing_trigger(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal"
            " AND p.proname IN ('dk_refuse_change', 'dk_refuse_auditlog_change')"
        )
        guarded = {name for (name,) in cursor.fetchall()}
    tables = {m._meta.db_table for m in immutable_models()}
    assert tables - guarded == set()


def test_the_runtime_role_has_rows_only(runtime_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname,"
            " has_table_privilege(%(r)s, c.oid, 'SELECT, INSERT, UPDATE, DELETE'),"
            " has_table_privilege(%(r)s, c.oid, 'SELECT') AND has_table_privilege(%(r)s, c.oid, 'INSERT')"
            " AND has_table_privilege(%(r)s, c.oid, 'UPDATE') AND has_table_privilege(%(r)s, c.oid, 'DELETE'),"
            " has_table_privilege(%(r)s, c.oid, 'TRUNCATE, TRIGGER, REFERENCES'),"
            " pg_has_role(%(r)s, c.relowner, 'USAGE')"
            " FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
            " AND c.relkind IN ('r', 'p')",
            {"r": runtime_role},
        )
        tables = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
            " AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(%s, c.oid, 'USAGE') END",
            [runtime_role],
        )
        sequences_without_usage = cursor.fetchall()

    assert len(tables) > 50
    assert [t for t, _, all_rows, _, _ in tables if not all_rows] == []
    assert [t for t, _, _, more, _ in tables if more] == []
    assert [t for t, _, _, _, owner in tables if owner] == []
    assert sequences_without_usage == []


def test_the_runtime_role_still_does_the_application_s_work(records, runtime_role, people):
    case = Case.objects.get(pk=Signature.objects.get(pk=records[Signature]).case_id)
    events = case.events.count()
    with signed_in_as(runtime_role):
        record_event(case, action="test", label="运行角色写入事件", actor=people.handler)
        Case.objects.filter(pk=case.pk).update(handler=people.handler2)
    assert case.events.count() == events + 1
    assert Case.objects.get(pk=case.pk).handler == people.handler2


def test_a_decided_case_keeps_its_decision_and_moves_only_forward(records, runtime_role):
    case = Case.objects.get(pk=Signature.objects.get(pk=records[Signature]).case_id)
    assert case.state == State.APPROVED
    with signed_in_as(runtime_role):
        refused = {
            "monthly_amount by update()": lambda: Case.objects.filter(pk=case.pk).update(
                monthly_amount=Decimal("9999")
            ),
            "decided_on by update()": lambda: Case.objects.filter(pk=case.pk).update(
                decided_on=date(2020, 1, 1)
            ),
            "kind by bulk_update()": lambda: Case.objects.bulk_update(
                [Case(pk=case.pk, kind="tekun")], ["kind"]
            ),
            "back to proposed": lambda: Case.objects.filter(pk=case.pk).update(
                state=State.PROPOSED
            ),
            "raw UPDATE of the amount": lambda: _execute(
                "UPDATE cases_case SET monthly_amount = 1 WHERE id = %s", [case.pk]
            ),
            "raw DELETE": lambda: _execute("DELETE FROM cases_case WHERE id = %s", [case.pk]),
            "a termination reason without termination": lambda: Case.objects.filter(
                pk=case.pk
            ).update(termination_reason="x"),
        }
        went_through = [name for name, write in refused.items() if _attempt(write)]
        # The workflow's own next step still goes through.
        Case.objects.filter(pk=case.pk).update(state=State.IN_PAYMENT)

    assert went_through == []
    after = Case.objects.get(pk=case.pk)
    assert (after.monthly_amount, after.decided_on, after.kind, after.state) == (
        case.monthly_amount,
        case.decided_on,
        case.kind,
        State.IN_PAYMENT,
    )


def test_a_submitted_roster_keeps_its_content_and_takes_only_the_county_s_verdict(
    records, runtime_role
):
    roster = PaymentRoster.objects.get(state=RosterState.SUBMITTED)
    line = roster.lines.first()
    with signed_in_as(runtime_role):
        refused = {
            "roster total by _base_manager.update()": lambda: PaymentRoster._base_manager.filter(
                pk=roster.pk
            ).update(total_amount=Decimal("1")),
            "roster raw DELETE": lambda: _execute(
                "DELETE FROM disbursement_paymentroster WHERE id = %s", [roster.pk]
            ),
            "line amount by _base_manager.update()": lambda: RosterLine._base_manager.filter(
                pk=line.pk
            ).update(amount=Decimal("1")),
            "line raw DELETE": lambda: _execute(
                "DELETE FROM disbursement_rosterline WHERE id = %s", [line.pk]
            ),
            "back to prepared": lambda: _execute(
                "UPDATE disbursement_paymentroster SET state = 'prepared' WHERE id = %s",
                [roster.pk],
            ),
        }
        went_through = [name for name, write in refused.items() if _attempt(write)]
        _execute(
            "UPDATE disbursement_paymentroster SET state = 'accepted', decided_at = now()"
            " WHERE id = %s",
            [roster.pk],
        )

    assert went_through == []
    assert PaymentRoster.objects.get(pk=roster.pk).state == RosterState.ACCEPTED
    assert RosterLine.objects.get(pk=line.pk).amount == line.amount


def test_the_grant_refuses_a_superuser_and_a_role_that_does_not_exist(db):
    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_runtime_role", connection.settings_dict["USER"], stdout=StringIO())
    with pytest.raises(CommandError, match="does not exist"):
        call_command("grant_runtime_role", "dk_no_such_role", stdout=StringIO())
