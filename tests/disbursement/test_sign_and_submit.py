"""The handler prepares, the two leaders sign, the unit submits between the 20th and the 25th."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from accounts.models import AuditLog
from cases.deadlines.cutoffs import grant_roster_leave
from dengkou_aid.errors import DomainError, NotAllowed
from disbursement.models import RosterSignature, RosterState, SignatureStep
from disbursement.services import generate_roster, sign_roster, submit_roster

from ..conftest import signing_otp
from .conftest import DECEMBER, IN_WINDOW, sign_all


@pytest.fixture
def signed_roster(people, entitle):
    entitle()
    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    return sign_all(roster, people)


def test_signatures_come_in_order_handler_direct_first(people, entitle):
    entitle()
    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)

    with pytest.raises(NotAllowed, match="经办人"):
        sign_roster(roster=roster, actor=people.first)
    sign_roster(roster=roster, actor=people.handler)
    with pytest.raises(NotAllowed, match="分管领导"):
        sign_roster(roster=roster, actor=people.first)
    sign_roster(roster=roster, actor=people.direct, otp_token=signing_otp(people.direct))
    sign_roster(roster=roster, actor=people.first, otp_token=signing_otp(people.first))

    roster.refresh_from_db()
    assert roster.state == RosterState.SIGNED
    steps = list(roster.signatures.values_list("step", "role", "unit_id"))
    assert [s[0] for s in steps] == [
        SignatureStep.PREPARE,
        SignatureStep.DIRECT,
        SignatureStep.FIRST,
    ]
    assert all(unit == people.unit_a.pk for _, _, unit in steps)
    assert len(set(roster.signatures.values_list("content_hash", flat=True))) == 1


def test_a_leader_of_another_unit_cannot_sign(people, entitle):
    entitle()
    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    sign_roster(roster=roster, actor=people.handler)

    with pytest.raises(NotAllowed):
        sign_roster(roster=roster, actor=people.outsider_direct)


def test_signatures_are_immutable(signed_roster):
    signature = RosterSignature.objects.filter(roster=signed_roster).first()
    signature.signer_name = "别人"
    with pytest.raises(Exception, match="不可修改"):
        signature.save()


def test_submission_on_the_22nd_is_accepted(people, signed_roster):
    with time_machine.travel(IN_WINDOW, tick=False):
        submit_roster(roster=signed_roster, actor=people.handler)
    signed_roster.refresh_from_db()
    assert signed_roster.state == RosterState.SUBMITTED
    assert signed_roster.submitted_by == people.handler


@pytest.mark.parametrize("moment", ["2026-11-19 16:00 +08:00", "2026-11-26 09:00 +08:00"])
def test_submission_outside_the_20th_to_25th_is_refused(people, signed_roster, moment):
    with time_machine.travel(moment, tick=False), pytest.raises(DomainError, match="20日至25日"):
        submit_roster(roster=signed_roster, actor=people.handler)
    signed_roster.refresh_from_db()
    assert signed_roster.state == RosterState.SIGNED


def test_a_roster_goes_in_during_its_own_months_window_only(people, signed_roster):
    # December's roster is due 20–25 November; the 22nd of December is another month's window.
    with (
        time_machine.travel("2026-12-22 10:00 +08:00", tick=False),
        pytest.raises(DomainError, match="2026年12月发放清册须在2026年11月20日至25日报送"),
    ):
        submit_roster(roster=signed_roster, actor=people.handler)
    signed_roster.refresh_from_db()
    assert signed_roster.state == RosterState.SIGNED


def test_the_countys_leave_opens_the_window_for_its_month_and_unit_only(people, signed_roster):
    leave = dict(
        unit=people.unit_a, until=date(2026, 11, 28), reason="系统故障", actor=people.supervisor
    )
    grant_roster_leave(month=date(2026, 11, 1), **leave)  # November's roster, late
    with (
        time_machine.travel("2026-11-27 10:00 +08:00", tick=False),
        pytest.raises(DomainError, match="20日至25日"),
    ):
        submit_roster(roster=signed_roster, actor=people.handler)

    grant_roster_leave(month=DECEMBER, **leave)
    with time_machine.travel("2026-11-27 10:00 +08:00", tick=False):
        submit_roster(roster=signed_roster, actor=people.handler)
    signed_roster.refresh_from_db()
    assert signed_roster.state == RosterState.SUBMITTED


def test_an_unsigned_roster_cannot_be_submitted(people, entitle):
    entitle()
    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    with time_machine.travel(IN_WINDOW, tick=False), pytest.raises(DomainError, match="签字"):
        submit_roster(roster=roster, actor=people.handler)


def test_a_difference_blocks_submission_and_says_where(people, entitle):
    from decimal import Decimal

    from disbursement.models import ChangeSource
    from disbursement.services import adjust_entitlement

    entitlement = entitle(amount="500")
    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    sign_all(roster, people)
    adjust_entitlement(
        entitlement=entitlement,
        effective_month=DECEMBER,
        new_amount=Decimal("520"),
        reason="更正核算",
        source=ChangeSource.CORRECTION,
        actor=people.handler,
    )
    with time_machine.travel(IN_WINDOW, tick=False), pytest.raises(DomainError) as refused:
        submit_roster(roster=roster, actor=people.handler)
    assert entitlement.case.number in refused.value.message
    assert "应发520" in refused.value.message


def test_regenerating_after_signatures_voids_them(people, entitle, signed_roster):
    entitle(amount="700")
    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    assert roster.state == RosterState.PREPARED
    assert roster.round == 2
    assert not roster.signatures.filter(round=2).exists()


def test_a_leader_signs_a_roster_only_with_their_one_time_code(people, entitle, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    entitle()
    roster = generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    sign_roster(roster=roster, actor=people.handler)

    with pytest.raises(DomainError, match="动态口令"):
        sign_roster(roster=roster, actor=people.direct)
    right = signing_otp(people.direct)
    with pytest.raises(DomainError, match="动态口令错误，未签字"):
        sign_roster(roster=roster, actor=people.direct, otp_token=f"{(int(right) + 1) % 10**6:06d}")
    assert roster.signatures.count() == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.OTP_FAILED, user=people.direct).exists()
    sign_roster(roster=roster, actor=people.direct, otp_token=signing_otp(people.direct))
    assert roster.signatures.count() == 2


def test_submitting_on_the_page_first_shows_what_goes_to_the_county(
    signed_roster, people, login, client
):
    with time_machine.travel(IN_WINDOW, tick=False):
        login(people.handler)
        url = f"/disbursement/rosters/{signed_roster.pk}/submit/"
        page = client.post(url).content.decode()
        signed_roster.refresh_from_db()
        assert signed_roster.state == RosterState.SIGNED
        assert 'data-testid="confirm-form"' in page
        assert "2026年12月" in page and f"{signed_roster.line_count}户" in page
        assert f"{signed_roster.total_amount}元" in page
        assert all(s.signer_name in page for s in signed_roster.signatures.all())
        client.post(url, {"confirmed": "1"})
    signed_roster.refresh_from_db()
    assert signed_roster.state == RosterState.SUBMITTED
