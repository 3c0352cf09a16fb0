"""Before signing, a roster shows what changed since last month, and each signer is told."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from accounts.models import Notification
from cases.models import Area
from disbursement.models import ChangeSource
from disbursement.roster_review import compare_with_last_month
from disbursement.services import (
    adjust_entitlement,
    generate_roster,
    sign_roster,
    stop_entitlement,
    submit_roster,
)

from .conftest import sign_all

pytestmark = pytest.mark.django_db

NOVEMBER, DECEMBER = date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def december(people, entitle):
    """November paid 甲 670, 乙 840, 丙 500; for December 乙 is lowered, 丙 stopped, 丁 new."""
    kept = entitle(amount="670", decided_on=date(2026, 10, 9))
    lowered = entitle(amount="840", area=Area.URBAN, decided_on=date(2026, 10, 9))
    stopped = entitle(amount="500", decided_on=date(2026, 10, 9))
    with time_machine.travel("2026-10-22 10:00 +08:00", tick=False):
        november = generate_roster(unit=people.unit_a, month=NOVEMBER, actor=people.handler)
        sign_all(november, people)
        submit_roster(roster=november, actor=people.handler)
    with time_machine.travel("2026-11-12 10:00 +08:00", tick=False):
        adjust_entitlement(
            entitlement=lowered,
            effective_month=DECEMBER,
            new_amount=Decimal("700"),
            reason="复核：家庭成员新就业",
            source=ChangeSource.REVIEW,
            actor=people.handler,
        )
        stop_entitlement(
            entitlement=stopped,
            effective_month=DECEMBER,
            reason="户主死亡",
            source=ChangeSource.DEATH,
            actor=people.handler,
        )
        new = entitle(amount="900", decided_on=date(2026, 11, 10))
    with time_machine.travel("2026-11-21 10:00 +08:00", tick=False):
        roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    return roster, {"kept": kept, "lowered": lowered, "stopped": stopped, "new": new}


def test_the_comparison_names_new_stopped_and_changed_households_with_reasons(december):
    roster, e = december
    comparison = compare_with_last_month(roster)
    assert [d.entitlement for d in comparison.new] == [e["new"]]
    assert [d.entitlement for d in comparison.stopped] == [e["stopped"]]
    assert [(d.entitlement, d.before, d.after) for d in comparison.changed] == [
        (e["lowered"], Decimal("840.00"), Decimal("700.00"))
    ]
    assert "复核：家庭成员新就业" in comparison.changed[0].reason
    assert "户主死亡" in comparison.stopped[0].reason
    # 670 + 840 + 500 last month; 670 + 700 + 900 now.
    assert comparison.last_total == Decimal("2010.00") and roster.total_amount == Decimal("2270.00")


def test_the_roster_page_shows_the_comparison_masked_ids_sizes_and_filters_lines(
    december, people, login
):
    roster, e = december
    client = login(people.direct)
    page = client.get(f"/disbursement/rosters/{roster.pk}/").content.decode()
    assert 'data-testid="comparison"' in page
    assert (
        "新增 <strong>1</strong> 户，停发 <strong>1</strong> 户，金额变化 <strong>1</strong> 户"
        in page
    )
    assert e["new"].case.applicant.masked_id in page
    found = client.get(
        f"/disbursement/rosters/{roster.pk}/", {"q": e["lowered"].holder_name}
    ).content.decode()
    assert "符合条件 1 户" in found
    urban = client.get(
        f"/disbursement/rosters/{roster.pk}/", {"category": "dibao_urban"}
    ).content.decode()
    assert "符合条件 1 户" in urban


def test_each_signer_is_told_in_turn_and_sees_the_roster_at_home(december, people, login):
    roster, _ = december
    about = f"/rosters/{roster.pk}/"
    assert Notification.objects.filter(user=people.handler, url__contains=about).exists()
    assert not Notification.objects.filter(user=people.direct, url__contains=about).exists()
    assert "待签字的发放清册" in login(people.handler).get("/home/").content.decode()

    with time_machine.travel("2026-11-21 11:00 +08:00", tick=False):
        sign_roster(roster=roster, actor=people.handler)
    notice = Notification.objects.get(user=people.direct, url__contains=about)
    assert notice.title == "2026年12月发放清册待您签字"
    home = login(people.direct, Client()).get("/home/").content.decode()
    assert "2026年12月正常发放清册" in home
    assert not Notification.objects.filter(user=people.first, url__contains=about).exists()
