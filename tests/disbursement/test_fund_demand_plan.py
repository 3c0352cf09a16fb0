"""The yearly fund demand plan: projected from entitlements in force, trend and decided standards."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from cases.models import Area, PolicyStandard, StandardKind
from dengkou_aid.errors import DomainError
from disbursement.models import Category, ExportJob
from disbursement.plan import adjust_plan_line, compute_fund_demand_plan


@pytest.fixture
def two_rural(people, entitle, standards):
    entitle(amount="600", decided_on=date(2026, 10, 10))
    entitle(amount="400", decided_on=date(2026, 10, 10))


def test_the_plan_carries_the_current_amounts_through_next_year(people, two_rural):
    with time_machine.travel("2026-11-28 10:00 +08:00", tick=False):
        lines = compute_fund_demand_plan(year=2027, actor=people.finance)

    [line] = lines
    assert (line.unit_id, line.category) == (people.unit_a.pk, Category.DIBAO_RURAL)
    assert line.current_count == 2 and line.current_monthly == Decimal("1000")
    assert line.new_per_month == Decimal("0.17")  # two starts in the last 12 months
    assert line.projected_amount > Decimal("12000")


def test_a_decided_standard_raise_scales_the_months_after_it(people, two_rural):
    PolicyStandard.objects.create(
        kind=StandardKind.DIBAO,
        area=Area.RURAL,
        amount=Decimal("737"),
        effective_from=date(2027, 7, 1),
    )
    with time_machine.travel("2026-11-28 10:00 +08:00", tick=False):
        [line] = compute_fund_demand_plan(year=2027, actor=people.finance)
    assert line.standard_factor == Decimal("1.0500")


def test_the_county_adjusts_with_a_note_and_exports(
    people, two_rural, django_capture_on_commit_callbacks
):
    from disbursement.exports import request_export

    with time_machine.travel("2026-11-28 10:00 +08:00", tick=False):
        [line] = compute_fund_demand_plan(year=2027, actor=people.finance)
    with pytest.raises(DomainError, match="说明"):
        adjust_plan_line(line=line, adjusted_amount=Decimal("20000"), note="", actor=people.finance)
    adjust_plan_line(
        line=line, adjusted_amount=Decimal("20000"), note="预计新增", actor=people.finance
    )
    assert line.final_amount == Decimal("20000.00")
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(kind=ExportJob.Kind.PLAN_XLSX, actor=people.finance, year=2027)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE


def test_units_cannot_compute_the_plan(people, two_rural):
    from dengkou_aid.errors import NotAllowed

    with pytest.raises(NotAllowed):
        compute_fund_demand_plan(year=2027, actor=people.handler)


def test_stops_in_the_last_12_months_lower_the_projection(people, entitle, two_rural):
    from disbursement.models import ChangeSource
    from disbursement.services import stop_entitlement

    # Started in July 2026 and stopped from October 2026: one start and one stop in the window
    # (December 2025 to November 2026, the 12 months before the base month December 2026).
    stopped = entitle(amount="300", decided_on=date(2026, 6, 10))
    stop_entitlement(
        entitlement=stopped,
        effective_month=date(2026, 10, 1),
        reason="家庭收入超过保障标准",
        source=ChangeSource.REVIEW,
        actor=people.handler,
    )
    # Started in 2024 and stopped from November 2025: both just outside the window.
    old = entitle(amount="500", decided_on=date(2024, 6, 10))
    stop_entitlement(
        entitlement=old,
        effective_month=date(2025, 11, 1),
        reason="死亡",
        source=ChangeSource.DEATH,
        actor=people.handler,
    )

    with time_machine.travel("2026-11-28 10:00 +08:00", tick=False):
        [line] = compute_fund_demand_plan(year=2027, actor=people.finance)

    assert line.current_count == 2 and line.current_monthly == Decimal("1000")
    assert line.new_per_month == Decimal("0.25")  # 3 starts / 12
    assert line.stopped_per_month == Decimal("0.08")  # 1 stop / 12
    # Month m of 2027 is m months after the base: 2 + (3 − 1) / 12 × m households at 500 yuan;
    # over the year 24 + 78 / 6 = 37 household-months.
    assert line.standard_factor == Decimal("1.0000")
    assert line.projected_amount == Decimal("18500.00")
