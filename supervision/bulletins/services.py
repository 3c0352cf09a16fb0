"""Issuing the period's bulletins (工作通报): numbered per Dengkou year, dated, signed by the
supervisor, one per unit with findings and one for the county."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Unit, User
from dengkou_aid.errors import Conflict, DomainError

from ..models import Bulletin, CountySignature
from ..notices import notify_unit, require_supervisor
from ..numbering import (
    cn_date,
    lock_series,
    next_number,
    render_into,
    sign_county,
    signature_lines,
)
from .selectors import bulletin_figures

UNIT_READERS = (Role.HANDLER, Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE)


def issue_bulletins(*, period_start: date, period_end: date, actor: User) -> list[Bulletin]:
    """A bulletin per unit with findings in the period and a county one, each numbered,
    dated and signed; refused for a period with no findings or one already issued."""
    require_supervisor(actor)
    if period_end < period_start:
        raise DomainError("通报期间的结束日期不能早于开始日期。", field="period_end")
    figures = bulletin_figures(period_start=period_start, period_end=period_end)
    if not figures["findings_count"]:
        raise DomainError(
            "本期没有发现问题，无需印发工作通报；请核对通报期间。", field="period_start"
        )
    period = f"{period_start:%Y年%m月%d日}至{period_end:%Y年%m月%d日}"
    today = timezone.localdate()
    with transaction.atomic():
        # Take the number series' lock before looking: two supervisors pressing at once
        # must not issue the period twice (the second waits, then finds it issued).
        lock_series("bulletin", on=today)
        if Bulletin.objects.filter(period_start=period_start, period_end=period_end).exists():
            raise Conflict("本期工作通报已印发，不能重复印发。")
        bulletins = [
            _issue(
                actor,
                period_start,
                period_end,
                unit=u["unit"],
                title=f"关于{u['unit'].name}{period}社会救助审核确认工作的通报",
                context={"period": period, **u},
                template="supervision/pdf/bulletin_unit.html",
                today=today,
            )
            for u in figures["units"]
        ]
        bulletins.append(
            _issue(
                actor,
                period_start,
                period_end,
                unit=None,
                title=f"磴口县{period}社会救助审核确认工作情况通报",
                context={"period": period, **figures},
                template="supervision/pdf/bulletin_county.html",
                today=today,
            )
        )
        for bulletin in bulletins:
            transaction.on_commit(lambda b=bulletin: _tell_readers(b))
    return bulletins


def _issue(actor, start, end, *, unit: Unit | None, title, context, template, today) -> Bulletin:
    number = next_number("bulletin", on=today)
    record = _plain(context)
    signature = sign_county(
        actor=actor,
        act=CountySignature.Act.BULLETIN,
        over={"number": number, "title": title, "figures": record},
    )
    bulletin = Bulletin(
        period_start=start,
        period_end=end,
        unit=unit,
        title=title,
        number=number,
        issued_on=today,
        signature=signature,
        issued_by=actor,
        figures={**record, "number": number},
    )
    bulletin.sha256 = render_into(
        bulletin.file,
        template,
        {
            "title": title,
            "header": "磴口县民政局 工作通报",
            "number": number,
            "date": cn_date(today),
            "signed": signature_lines(signature),
            **context,
        },
    )
    bulletin.save()
    return bulletin


def _plain(context: dict) -> dict:
    """The figures of a bulletin as JSON, for the record."""
    keep = (
        "period",
        "cases_decided",
        "on_time",
        "findings_count",
        "open_count",
        "counts",
        "samples",
    )
    plain = {key: context[key] for key in keep if key in context}
    if "demanded" in context:
        plain["demanded"] = [line["case"] for line in context["demanded"]]
    return plain


def _tell_readers(bulletin: Bulletin) -> None:
    """A unit's bulletin goes to its handler and leaders; the county one to every unit's."""
    units = (
        [bulletin.unit_id]
        if bulletin.unit_id
        else list(Unit.objects.approval_units().values_list("id", flat=True))
    )
    for unit_id in units:
        notify_unit(
            unit_id,
            roles=UNIT_READERS,
            key=f"bulletin:{bulletin.pk}",
            title=f"{bulletin.number} {bulletin.title}",
            url=f"/files/bulletin/{bulletin.pk}/",
        )
