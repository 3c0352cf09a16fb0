"""Change reports drafted offline on the village tablet: checked against the household as the
device saw it, then filed as online (the cases tablet keeps the receipt per draft key)."""

from __future__ import annotations

from datetime import date
from typing import Any

from accounts.models import User
from cases.models import Household, Person
from cases.tablet import services as tablet
from cases.tablet.models import DraftKind, TabletSync
from cases.tablet.views import draft_endpoint
from dengkou_aid.errors import DomainError, NotAllowed

from . import change_reports
from .api import ChangeReportIn


def change_report_applier(actor: User, payload: dict) -> Any:
    def apply(receipt: TabletSync) -> tablet.Applied:
        household = Household.objects.filter(pk=tablet.as_int(payload.get("household"))).first()
        if household is None or not tablet.assistant_serves(actor, household.village_id):
            raise NotAllowed(
                "该家庭不在您现在负责的嘎查村/社区，草稿未提交，仍保留在本机。", field="household"
            )
        tablet.household_conflict(household, str(payload.get("base_version", "")))
        data = ChangeReportIn(data=payload)
        if not data.is_valid():
            name, errors = next(iter(data.errors.items()))
            label = data.fields[name].label if name in data.fields else ""
            raise DomainError(f"{label}：{errors[0]}" if label else str(errors[0]), field=name)
        values = data.validated_data
        member = None
        if values.get("member"):
            member = Person.objects.filter(pk=values["member"], household=household).first()
            if member is None:
                raise DomainError("所选成员不属于该家庭。", field="member")
        occurred_on: date | None = values.get("occurred_on")
        report = change_reports.file_change_report(
            actor=actor,
            household=household,
            kind=values["kind"],
            details=values["details"],
            member=member,
            occurred_on=occurred_on,
        )
        return tablet.Applied(
            object_id=report.pk,
            result={"label": f"情况变化报告已提交：{report.get_kind_display()}"},
        )

    return apply


def receive_change_report(*, actor: User, body: dict) -> TabletSync:
    """One change report from the tablet."""
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise DomainError("草稿内容缺失。", field="payload")
    return tablet.receive_draft(
        actor=actor,
        key=tablet.parse_key(body.get("key")),
        kind=DraftKind.CHANGE_REPORT,
        payload=payload,
        apply=change_report_applier(actor, payload),
        device=str(body.get("device", "")),
        device_made_at=str(body.get("made_at", "")),
    )


endpoint = draft_endpoint(receive_change_report)
