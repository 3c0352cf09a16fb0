"""The county's yearly acceptance (考核验收) of a third-party agency (五(二)1(6)): the year's
figures per item, the supervisor's verdict on each, the signature and the PDF."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Unit, UnitKind, User
from dengkou_aid.errors import Conflict, DomainError

from ..models import AgencyAcceptance, CountySignature
from ..notices import require_supervisor
from ..numbering import cn_date, next_number, render_into, sign_county, signature_lines

# (key, item, how the figure reads)
ITEMS = (
    ("on_time", "入户调查按期完成（分派案件按期办结率）", "on_time_rate"),
    ("quality", "入户调查质量（实地抽查合格率）", "pass_rate"),
    ("contract", "服务合同履行（分派案件数、已审核确认数）", None),
)


def acceptance_items(*, agency: Unit, year: int) -> list[dict[str, Any]]:
    """The items of an agency's acceptance with the year's figures beside each."""
    from ..selectors import agency_sheet

    rows = agency_sheet(start=date(year, 1, 1), end=date(year, 12, 31))
    row = next((r for r in rows if r["agency"].pk == agency.pk), None) or {}
    figures = {
        "on_time": _percent(
            row.get("on_time_rate"), f"{row.get('on_time', 0)}/{row.get('decided', 0)}件"
        ),
        "quality": _percent(
            row.get("pass_rate"),
            f"抽查{row.get('checked', 0)}件，入户调查有问题{row.get('problems', 0)}件",
        ),
        "contract": f"分派{row.get('assigned', 0)}件，已审核确认{row.get('decided', 0)}件",
    }
    return [{"key": key, "item": label, "figure": figures[key]} for key, label, _ in ITEMS]


def _percent(rate, detail: str) -> str:
    return f"{rate}%（{detail}）" if rate is not None else f"无可考核记录（{detail}）"


def accept_agency(
    *,
    agency: Unit,
    year: int,
    actor: User,
    verdicts: dict[str, str],
    notes: dict[str, str],
    conclusion: str = "",
) -> AgencyAcceptance:
    """Record the acceptance with a verdict per item (a failed item needs its reason),
    numbered 磴民政验〔year〕N号, signed, rendered; once per agency and year."""
    require_supervisor(actor)
    if agency.kind != UnitKind.AGENCY:
        raise DomainError("只能对第三方社会救助服务机构进行考核验收。", field="agency")
    items = acceptance_items(agency=agency, year=year)
    for item in items:
        verdict = verdicts.get(item["key"])
        if verdict not in ("pass", "fail"):
            raise DomainError(f"请对“{item['item']}”作出合格或不合格的结论。", field=item["key"])
        if verdict == "fail" and not (notes.get(item["key"]) or "").strip():
            raise DomainError(f"“{item['item']}”不合格的，须说明理由。", field=item["key"])
        item["passed"] = verdict == "pass"
        item["note"] = (notes.get(item["key"]) or "").strip()
    passed = all(item["passed"] for item in items)
    today = timezone.localdate()
    try:
        with transaction.atomic():
            if AgencyAcceptance.objects.filter(agency=agency, year=year).exists():
                raise Conflict(f"{agency.name}{year}年度考核验收已签署，不能重复验收。")
            number = next_number("acceptance", on=today)
            content = {"number": number, "agency": agency.pk, "year": year, "items": items}
            signature = sign_county(
                actor=actor,
                act=CountySignature.Act.ACCEPTANCE,
                over=content,
                text=conclusion.strip(),
            )
            acceptance = AgencyAcceptance(
                agency=agency,
                year=year,
                number=number,
                items=items,
                passed=passed,
                conclusion=conclusion.strip(),
                signature=signature,
                issued_on=today,
            )
            acceptance.sha256 = render_into(
                acceptance.file,
                "supervision/pdf/agency_acceptance.html",
                {
                    "title": f"{agency.name}{year}年度社会救助服务考核验收表",
                    "header": "磴口县民政局",
                    "number": number,
                    "date": cn_date(today),
                    "signed": signature_lines(signature),
                    "agency": agency.name,
                    "year": year,
                    "items": items,
                    "passed": passed,
                    "conclusion": conclusion.strip(),
                },
            )
            acceptance.save()
    except IntegrityError:
        raise Conflict(f"{agency.name}{year}年度考核验收已签署，不能重复验收。") from None
    return acceptance
