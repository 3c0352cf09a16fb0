"""Fund releases against the county's fund requests: recording one, and the month's figures.

The finance bureau releases money against a county fund request (请款汇总), per unit and
category. `record_fund_release` is the one way a release is written: it locks the request's
row, so two people recording at once are taken one after the other and the second sees the
first's release; the released total of a request's unit and category (and of the unit) never
exceeds what was requested unless a county supervisor records why. A voucher number names one
release. Each release writes an event on the unit's roster in the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Role, Unit, User
from dengkou_aid.errors import Conflict, DomainError

from .models import Category, CountyFundRequest, FundRelease, RosterEvent, RosterKind
from .services import _require_county

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def parse_amount(text: object, field: str = "amount") -> Decimal:
    """A typed amount of yuan: a positive number with at most two decimals."""
    raw = str(text if text is not None else "").strip().replace(",", "").replace("，", "")
    if not raw:
        raise DomainError("请填写拨付金额。", field=field)
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise DomainError("拨付金额应为数字，例如 30000.00。", field=field) from None
    if not amount.is_finite():
        raise DomainError("拨付金额应为数字，例如 30000.00。", field=field)
    if amount <= 0:
        raise DomainError("拨付金额须大于0。", field=field)
    if amount != amount.quantize(CENT):
        raise DomainError("拨付金额最多保留两位小数（到分）。", field=field)
    if amount >= Decimal("10000000000"):
        raise DomainError("拨付金额过大，请核对。", field=field)
    return amount.quantize(CENT)


def requested(fund_request: CountyFundRequest, *, unit_id: int, category: str = "") -> Decimal:
    """What the request asked for the unit (and category, if named)."""
    return sum(
        (
            Decimal(row["amount"])
            for row in fund_request.totals
            if row.get("unit_id") == unit_id and (not category or row.get("category") == category)
        ),
        ZERO,
    )


def released(fund_request: CountyFundRequest, *, unit_id: int, category: str = "") -> Decimal:
    """What has been released against the request for the unit (and category, if named)."""
    releases = FundRelease.objects.filter(fund_request=fund_request, unit_id=unit_id)
    if category:
        releases = releases.filter(category=category)
    return releases.aggregate(s=Sum("amount"))["s"] or ZERO


@transaction.atomic
def record_fund_release(
    *,
    fund_request: CountyFundRequest,
    unit: Unit,
    category: str,
    amount: Decimal,
    released_on: date,
    reference: str,
    actor: User,
    over_reason: str = "",
) -> FundRelease:
    """Record funds the finance bureau released against a fund request for a unit and category."""
    _require_county(actor)
    amount = parse_amount(amount)
    reference = (reference or "").strip()
    over_reason = (over_reason or "").strip()
    if not reference:
        raise DomainError("请填写拨付凭证号。", field="reference")
    if category not in Category.values:
        raise DomainError("请选择类别。", field="category")
    # Every release of this request waits here for the one before it.
    locked = CountyFundRequest.objects.select_for_update().filter(pk=fund_request.pk).first()
    if locked is None:
        raise DomainError("请选择本月已生成的请款汇总。", field="fund_request")
    label = Category(category).label
    line_requested = requested(locked, unit_id=unit.pk, category=category)
    if line_requested <= 0:
        raise DomainError(
            f"该请款汇总中没有{unit.name}“{label}”的请款，不能登记拨付。", field="category"
        )
    if FundRelease.objects.filter(reference=reference).exists():
        raise Conflict(f"凭证号“{reference}”已登记过拨付，不能重复登记。", field="reference")
    line_outstanding = line_requested - released(locked, unit_id=unit.pk, category=category)
    unit_outstanding = requested(locked, unit_id=unit.pk) - released(locked, unit_id=unit.pk)
    outstanding = min(line_outstanding, unit_outstanding)
    over = amount > outstanding
    if over:
        shown = max(outstanding, ZERO)
        if not over_reason:
            raise Conflict(
                f"拨付金额{amount}元超出{unit.name}“{label}”未拨付金额{shown}元。"
                "如确需超额拨付，须由县民政局监管人员填写超额原因。",
                field="amount",
            )
        if not actor.has_role(Role.COUNTY_SUPERVISOR):
            raise DomainError("超额拨付须由县民政局监管人员填写原因并登记。", field="over_reason")
    try:
        with transaction.atomic():
            release = FundRelease.objects.create(
                fund_request=locked,
                unit=unit,
                category=category,
                month=locked.month,
                amount=amount,
                released_on=released_on,
                reference=reference,
                over_reason=over_reason if over else "",
                recorded_by=actor,
            )
    except IntegrityError:
        raise Conflict(
            f"凭证号“{reference}”已登记过拨付，不能重复登记。", field="reference"
        ) from None
    rosters = list(locked.rosters.filter(unit=unit).order_by("id"))
    # The unit's regular roster, or a supplementary one when the request covers only that.
    roster = next((r for r in rosters if r.kind == RosterKind.REGULAR), None) or next(
        iter(rosters), None
    )
    if roster is not None:
        RosterEvent.objects.create(
            roster=roster,
            action="fund_released",
            label="资金已拨付" + ("（超出请款金额）" if over else ""),
            actor=actor,
            note=over_reason if over else "",
            data={
                "release": release.pk,
                "request": locked.pk,
                "category": category,
                "amount": str(amount),
                "reference": reference,
                "outstanding_before": str(outstanding),
            },
        )
    return release


@dataclass
class ReleaseRow:
    """One unit and category of a month: requested, released, outstanding."""

    unit: Unit
    category: str
    requested: Decimal
    released: Decimal
    releases: list[FundRelease]

    @property
    def outstanding(self) -> Decimal:
        return self.requested - self.released

    @property
    def category_label(self) -> str:
        return Category(self.category).label if self.category else "未分类别（检查启用前登记）"


def release_figures(month: date) -> list[ReleaseRow]:
    """Per unit and category, what the month's fund requests asked and what was released."""
    units = {u.pk: u for u in Unit.objects.approval_units()}
    rows: dict[tuple[int, str], ReleaseRow] = {}

    def row(unit_id: int, category: str) -> ReleaseRow:
        key = (unit_id, category)
        if key not in rows:
            rows[key] = ReleaseRow(
                units.get(unit_id) or Unit.objects.get(pk=unit_id), category, ZERO, ZERO, []
            )
        return rows[key]

    for fund_request in CountyFundRequest.objects.filter(month=month):
        for line in fund_request.totals:
            row(line["unit_id"], line["category"]).requested += Decimal(line["amount"])
    releases = FundRelease.objects.filter(month=month).select_related("recorded_by")
    for release in releases.order_by("released_on", "id"):
        target = row(release.unit_id, release.category)
        target.released += release.amount
        target.releases.append(release)
    order = {value: index for index, value in enumerate(Category.values)}
    return sorted(rows.values(), key=lambda r: (r.unit.code, order.get(r.category, len(order))))


def letter_number(fund_request: CountyFundRequest) -> str:
    """The request's number in its year: requests are never deleted, so the number stays."""
    # The year as Dengkou counts it: the __year lookup reads Asia/Shanghai, so must this.
    year = timezone.localtime(fund_request.created_at).year
    ordinal = CountyFundRequest.objects.filter(
        created_at__year=year, pk__lte=fund_request.pk
    ).count()
    return f"磴民请〔{year}〕{ordinal}号"


def fund_request_letter_pdf(fund_request: CountyFundRequest) -> bytes:
    """The county's letter asking the finance bureau (县财政局) for the month's funds."""
    from dengkou_aid.lib.pdf import render_pdf

    labels = dict(Category.choices)
    rows = [
        {**row, "category_label": labels.get(row["category"], row["category"])}
        for row in fund_request.totals
    ]
    return render_pdf(
        "disbursement/pdf/fund_request_letter.html",
        {
            "title": f"关于拨付{fund_request.month:%Y年%m月}社会救助资金的请示",
            "header": "磴口县民政局",
            "number": letter_number(fund_request),
            "request": fund_request,
            "rows": rows,
        },
    )
