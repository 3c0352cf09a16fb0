"""Migration 0010 attaches releases recorded before the checks to their month's request."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("disbursement", "0008_immutable_triggers_all")]
AFTER = [("disbursement", "0010_fund_release_checks")]


@pytest.fixture(autouse=True)
def latest_migrations_afterwards():
    """Leave the database at the latest migrations (later ones than 0010 included)."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_releases_are_attached_where_unambiguous_and_keep_their_repeated_voucher(people):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Request = old.get_model("disbursement", "CountyFundRequest")
    Release = old.get_model("disbursement", "FundRelease")
    december, january = date(2026, 12, 1), date(2027, 1, 1)
    one_line = [{"unit_id": people.unit_a.pk, "category": "dibao_rural", "amount": "52856.00"}]
    request = Request.objects.create(
        month=december,
        total_amount=Decimal("52856.00"),
        line_count=1,
        totals=one_line,
        created_by_id=people.finance.pk,
    )
    for amount in ("60000.00", "52856.00"):  # the two releases under one voucher
        Release.objects.create(
            unit_id=people.unit_a.pk,
            month=december,
            amount=Decimal(amount),
            released_on=date(2026, 12, 5),
            reference="磴财拨〔2026〕9号",
            recorded_by_id=people.finance.pk,
        )
    for _ in range(2):  # two requests for January: which one was meant is unknown
        Request.objects.create(
            month=january,
            total_amount=Decimal("100.00"),
            line_count=1,
            totals=one_line,
            created_by_id=people.finance.pk,
        )
    Release.objects.create(
        unit_id=people.unit_a.pk,
        month=january,
        amount=Decimal("100.00"),
        released_on=date(2027, 1, 5),
        reference="磴财拨〔2027〕1号",
        recorded_by_id=people.finance.pk,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    from disbursement.models import FundRelease

    december_releases = FundRelease.objects.filter(month=december)
    assert {(r.fund_request_id, r.category) for r in december_releases} == {
        (request.pk, "dibao_rural")
    }
    assert all(r.recorded_before_checks for r in FundRelease.objects.all())
    assert FundRelease.objects.get(month=january).fund_request_id is None
    # Written once again: the trigger is back on.
    with (
        pytest.raises(IntegrityError, match="UPDATE on disbursement_fundrelease refused"),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE disbursement_fundrelease SET amount = 1")
