"""A supplementary roster's whole life: a draft is regenerated from what is owed now, or
discarded with a reason and kept as 已作废; it never blocks the next one, and only submitted
rosters reach the county's files."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from openpyxl import load_workbook

from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from disbursement.exports import county_rosters, write_rosters_xlsx
from disbursement.models import ChangeSource, PaymentRoster, RosterKind, RosterState
from disbursement.services import (
    adjust_entitlement,
    county_totals,
    discard_supplementary_roster,
    generate_supplementary_roster,
    reconcile_roster,
    regenerate_supplementary_roster,
    stop_entitlement,
    submit_roster,
)

from .conftest import DECEMBER, IN_WINDOW, sign_all


def _draft(people, reason="核对补发"):
    return generate_supplementary_roster(
        unit=people.unit_a, month=DECEMBER, reason=reason, actor=people.handler
    )


def _line(roster, amount):
    return roster.lines.get(amount=Decimal(amount)).entitlement


def test_regenerating_after_a_revocation_backdated_into_the_month_recovers_what_was_paid(
    people, submitted_roster
):
    # December paid 670 + 840 = 1,510 yuan. A draft made then owes nothing: 0 households.
    draft = _draft(people)
    assert (draft.line_count, draft.total_amount) == (0, Decimal("0.00"))
    urban = _line(submitted_roster, "840.00")
    stop_entitlement(
        entitlement=urban,
        effective_month=DECEMBER,
        reason="撤销审核确认，追溯至12月",
        source=ChangeSource.CORRECTION,
        actor=people.handler,
    )
    assert reconcile_roster(draft)  # "核对未通过…请重新生成清册"

    again = regenerate_supplementary_roster(roster=draft, actor=people.handler)

    # Hand computation: owed in December now 0 − already paid 840 = −840.00 for one household.
    assert list(again.lines.values_list("entitlement_id", "amount")) == [
        (urban.pk, Decimal("-840.00"))
    ]
    assert (again.line_count, again.total_amount, again.round) == (1, Decimal("-840.00"), 2)
    assert reconcile_roster(again) == []
    assert again.events.filter(action="regenerated", actor=people.handler).count() == 1


def test_regenerating_picks_up_a_second_change_and_drops_the_first_round_signatures(
    people, submitted_roster
):
    rural = _line(submitted_roster, "670.00")
    adjust_entitlement(
        entitlement=rural,
        effective_month=DECEMBER,
        new_amount=Decimal("700"),
        reason="核算有误",
        source=ChangeSource.CORRECTION,
        actor=people.handler,
    )
    draft = _draft(people)
    assert draft.total_amount == Decimal("30.00")  # 700 − 670
    sign_all(draft, people)
    adjust_entitlement(
        entitlement=rural,
        effective_month=DECEMBER,
        new_amount=Decimal("720"),
        reason="再次核算",
        source=ChangeSource.CORRECTION,
        actor=people.handler,
    )

    again = regenerate_supplementary_roster(roster=draft, actor=people.handler)

    assert again.total_amount == Decimal("50.00")  # 720 − 670
    assert again.state == RosterState.PREPARED
    assert not again.signatures.filter(round=again.round).exists()


def test_discarding_records_who_when_and_why_and_lets_the_next_draft_be_made(
    people, submitted_roster
):
    draft = _draft(people)
    with pytest.raises(Conflict, match="未报送的补发清册"):
        _draft(people, reason="第二份")

    with time_machine.travel("2026-12-03 09:30 +08:00", tick=False):
        discard_supplementary_roster(roster=draft, reason="原因填写有误", actor=people.handler)

    draft.refresh_from_db()
    assert draft.state == RosterState.DISCARDED
    event = draft.events.get(action="discarded")
    assert (event.actor, event.note) == (people.handler, "原因填写有误")
    assert f"{event.at:%Y-%m-%d %H:%M}" == "2026-12-03 01:30"  # 09:30 Asia/Shanghai
    following = _draft(people, reason="重新编制")
    assert following.pk != draft.pk and following.state == RosterState.PREPARED


def test_a_draft_with_no_households_can_be_discarded(people, submitted_roster):
    draft = _draft(people)
    assert draft.line_count == 0

    discard_supplementary_roster(roster=draft, reason="无需补发", actor=people.handler)

    draft.refresh_from_db()
    assert draft.state == RosterState.DISCARDED
    assert PaymentRoster.objects.filter(pk=draft.pk).exists()  # kept for the record


def test_a_discard_needs_a_reason_and_the_units_handler_and_happens_once(people, submitted_roster):
    draft = _draft(people)
    with pytest.raises(DomainError, match="作废补发清册须填写原因") as blank:
        discard_supplementary_roster(roster=draft, reason=" ", actor=people.handler)
    assert blank.value.field == "reason"
    with pytest.raises(NotAllowed):
        discard_supplementary_roster(roster=draft, reason="x", actor=people.outsider)
    discard_supplementary_roster(roster=draft, reason="作废", actor=people.handler)
    with pytest.raises(Conflict, match="已作废"):
        discard_supplementary_roster(roster=draft, reason="再次", actor=people.handler2)
    with pytest.raises(Conflict, match="已作废"):
        regenerate_supplementary_roster(roster=draft, actor=people.handler)


def test_postgresql_refuses_to_change_a_discarded_roster(people, submitted_roster):
    draft = _draft(people)
    discard_supplementary_roster(roster=draft, reason="作废", actor=people.handler)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE disbursement_paymentroster SET state = 'prepared' WHERE id = %s", [draft.pk]
        )


def test_a_supplementary_roster_for_a_month_not_yet_due_is_refused_in_chinese(
    people, submitted_roster
):
    with (
        time_machine.travel("2026-12-05 10:00 +08:00", tick=False),
        pytest.raises(DomainError, match="2027年01月尚未到发放月份") as error,
    ):
        generate_supplementary_roster(
            unit=people.unit_a,
            month=DECEMBER.replace(year=2027, month=1),
            reason="补发",
            actor=people.handler,
        )
    assert error.value.field == "month"


def test_the_county_workbook_and_totals_leave_out_drafts_and_discarded_rosters(
    people, submitted_roster
):
    rural = _line(submitted_roster, "670.00")
    adjust_entitlement(
        entitlement=rural,
        effective_month=DECEMBER,
        new_amount=Decimal("700"),
        reason="核算有误",
        source=ChangeSource.CORRECTION,
        actor=people.handler,
    )
    discarded = _draft(people)
    discard_supplementary_roster(roster=discarded, reason="重编", actor=people.handler)
    draft = _draft(people)

    def sheets():
        target = io.BytesIO()
        write_rosters_xlsx(target, county_rosters(DECEMBER), full_accounts=False)
        return load_workbook(io.BytesIO(target.getvalue())).sheetnames

    assert sheets() == ["汇总", "巴彦高勒镇"]
    assert sum(Decimal(r["amount"]) for r in county_totals(DECEMBER)) == Decimal("1510.00")

    sign_all(draft, people)
    with time_machine.travel(IN_WINDOW, tick=False):
        submit_roster(roster=draft, actor=people.handler)

    assert sheets() == ["汇总", "巴彦高勒镇", f"巴彦高勒镇-补发{draft.pk}"]
    # 670 + 840 + the correction of 30 = 1,540 yuan.
    assert sum(Decimal(r["amount"]) for r in county_totals(DECEMBER)) == Decimal("1540.00")
    assert draft.kind == RosterKind.SUPPLEMENTARY


def test_the_handler_discards_on_the_roster_page_and_a_second_click_gets_409(
    people, login, submitted_roster
):
    draft = _draft(people)
    client = login(people.handler)
    page = client.get(f"/disbursement/rosters/{draft.pk}/").content.decode()
    assert "重新生成" in page and "作废原因" in page

    unconfirmed = client.post(f"/disbursement/rosters/{draft.pk}/discard/", {"reason": "写错了"})
    assert unconfirmed.status_code == 400
    body = unconfirmed.content.decode()
    assert "请勾选“确认作废”后再提交。" in body and 'value="写错了"' in body

    done = client.post(
        f"/disbursement/rosters/{draft.pk}/discard/",
        {"reason": "写错了", "confirm": "yes"},
        follow=True,
    )
    assert "补发清册已作废" in done.content.decode()
    again = client.post(
        f"/disbursement/rosters/{draft.pk}/discard/", {"reason": "写错了", "confirm": "yes"}
    )
    assert again.status_code == 409
    assert "不能作废" in again.content.decode()


def test_the_handler_regenerates_on_the_roster_page(people, login, submitted_roster):
    draft = _draft(people)
    stop_entitlement(
        entitlement=_line(submitted_roster, "840.00"),
        effective_month=DECEMBER,
        reason="撤销",
        source=ChangeSource.CORRECTION,
        actor=people.handler,
    )
    client = login(people.handler)
    done = client.post(f"/disbursement/rosters/{draft.pk}/regenerate/", follow=True)
    assert "已重新生成补发清册：1户，-840.00元。" in done.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_handlers_making_a_draft_at_once_get_one_draft_and_one_409(people, submitted_roster):
    import threading

    from django.db import connections

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def make(actor):
        try:
            barrier.wait()
            generate_supplementary_roster(
                unit=people.unit_a, month=DECEMBER, reason="同时编制", actor=actor
            )
            outcomes.append("made")
        except Conflict as error:
            outcomes.append(f"409 {error.status}")
        except Exception as error:  # noqa: BLE001 - the test reports anything else as it is
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=make, args=(a,)) for a in (people.handler, people.handler2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["409 409", "made"]
    assert (
        PaymentRoster.objects.filter(kind=RosterKind.SUPPLEMENTARY, state=RosterState.PREPARED)
        .filter(unit=people.unit_a, month=DECEMBER)
        .count()
        == 1
    )


def test_the_api_regenerates_and_discards_a_draft_and_answers_409_the_second_time(
    people, api, submitted_roster
):
    draft = _draft(people)
    client = api(people.handler)
    regenerated = client.post(f"/api/disbursement/rosters/{draft.pk}/regenerate/")
    assert regenerated.status_code == 200 and regenerated.json()["round"] == 2
    assert client.post(f"/api/disbursement/rosters/{draft.pk}/discard/", {}).status_code == 400
    discarded = client.post(
        f"/api/disbursement/rosters/{draft.pk}/discard/", {"reason": "重编"}, format="json"
    )
    assert discarded.status_code == 200 and discarded.json()["state_label"] == "已作废"
    again = client.post(
        f"/api/disbursement/rosters/{draft.pk}/discard/", {"reason": "重编"}, format="json"
    )
    assert again.status_code == 409
    assert "已作废" in again.json()["detail"]
