"""Reads for supervision: every figure is an aggregate query (values().annotate()), never a
loop over loaded cases, so the county dashboard stays fast at a million cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils import timezone

from accounts.access import Scope, scope_for
from accounts.models import Role, Unit, UnitKind
from cases.deadlines.calendar import add_workdays
from cases.models import (
    CLOCK_STATES,
    Area,
    Case,
    Kind,
    Outcome,
    State,
)
from dengkou_aid.lib.queries import no_jit

from . import summary
from .models import (
    AssessmentWeights,
    CheckItem,
    DashboardSnapshot,
    Finding,
    Rectification,
    Rule,
    SpotCheckDraw,
    SpotCheckSample,
)
from .models import DashboardTally as Tally

SOON_WORKDAYS = 5
KIND_LABELS = dict(Kind.choices)
STATE_LABELS = dict(State.choices)
RULE_LABELS = dict(Rule.choices)
AREA_LABELS = dict(Area.choices)


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a period, and optionally one unit and one kind."""

    start: date
    end: date
    unit_id: int | None = None
    kind: str | None = None
    month: date | None = None  # the month of the payment figures (default this month)

    def cases(self, scope: Scope) -> QuerySet[Case]:
        cases = scope.filter(Case.objects.all())
        if self.unit_id:
            cases = cases.filter(unit_id=self.unit_id)
        if self.kind:
            cases = cases.filter(kind=self.kind)
        return cases


@dataclass
class Section:
    """One block of a dashboard: a table, and the chart drawn from the same figures."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    as_of: datetime | None = None  # when a summary section's figures were counted


def _unit_names() -> dict[int, str]:
    return dict(Unit.objects.values_list("id", "name"))


def _chart(kind: str, categories: list, series: dict[str, list], *, stack: bool = False) -> dict:
    return {
        "type": kind,
        "categories": [str(c) for c in categories],
        "series": [
            {"name": name, "data": [float(v or 0) for v in data]} for name, data in series.items()
        ],
        "stack": stack,
    }


def dashboard(
    *,
    scope: Scope,
    filters: Filters,
    today: date | None = None,
    snapshot: DashboardSnapshot | None = None,
) -> list[Section]:
    """Every section of the dashboard for what the user may see, under the filters.

    The figures over all cases and payments are summed from the latest summary snapshot
    (see `summary`); overdue cases and open findings are counted live. A constant number
    of queries whatever the number of cases.
    """
    today = today or timezone.localdate()
    cases = filters.cases(scope)
    names = _unit_names()
    snapshot = snapshot or summary.current(today)
    with no_jit():
        sections = [
            caseload(snapshot, scope, filters, names),
            monthly_flow(snapshot, scope, filters),
            on_time(snapshot, scope, filters, names),
            deadlines(cases, names, today),
            beneficiaries(snapshot, scope, filters, names),
            open_findings(scope, filters, names, today),
        ]
    for section in sections:
        if section.key in SUMMARY_SECTIONS:
            section.as_of = snapshot.computed_at
    return sections


SUMMARY_SECTIONS = ("caseload", "flow", "on_time", "beneficiaries")


def caseload(
    snapshot: DashboardSnapshot, scope: Scope, filters: Filters, names: dict[int, str]
) -> Section:
    rows = (
        summary.tallies(snapshot, Tally.Figure.CASELOAD, scope, filters)
        .values("unit_id", "kind", "state")
        .annotate(n=Sum("n"))
        .order_by("unit_id", "kind", "state")
    )
    section = Section(
        "caseload", "在办及历史案件（单位×类别×状态）", ["单位", "救助类别", "状态", "案件数"]
    )
    by_unit: dict[str, dict[str, int]] = {}
    for row in rows:
        unit, kind = names.get(row["unit_id"], ""), KIND_LABELS[row["kind"]]
        section.rows.append([unit, kind, STATE_LABELS.get(row["state"], row["state"]), row["n"]])
        by_unit.setdefault(unit, {}).setdefault(kind, 0)
        by_unit[unit][kind] += row["n"]
    units = list(by_unit)
    series = {label: [by_unit[u].get(label, 0) for u in units] for label in KIND_LABELS.values()}
    section.chart = _chart("bar", units, series, stack=True)
    return section


def _months(start: date, end: date) -> list[date]:
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(day)
        day = (day.replace(day=28) + timezone.timedelta(days=4)).replace(day=1)
    return months


def _by_month(rows, key: str = "month") -> dict[date, int]:
    out: dict[date, int] = {}
    for row in rows:
        month = row[key]
        month = month.date() if hasattr(month, "date") else month
        month = month.replace(day=1)
        out[month] = out.get(month, 0) + row["n"]
    return out


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timezone.timedelta(days=4)).replace(day=1)


def monthly_flow(snapshot: DashboardSnapshot, scope: Scope, filters: Filters) -> Section:
    """Applications (by local month of submission), approvals and rejections (by month of
    decision) and stops (by local month of the termination) over whole months."""
    months = _months(filters.start, filters.end)
    first, after = months[0], _next_month(months[-1])

    def per_month(figure: str) -> QuerySet:
        return (
            summary.tallies(snapshot, figure, scope, filters)
            .filter(day__gte=first, day__lt=after)
            .values("day")
            .annotate(n=Sum("n"))
            .order_by()
        )

    applied = _by_month(per_month(Tally.Figure.APPLIED), "day")
    stopped = _by_month(per_month(Tally.Figure.STOPPED), "day")
    # Grouping by the plain date (a few hundred groups), months are summed here.
    decided = list(
        summary.tallies(snapshot, Tally.Figure.DECIDED, scope, filters)
        .filter(day__gte=first, day__lt=after, outcome__in=[Outcome.APPROVE, Outcome.REJECT])
        .values("day", "outcome")
        .annotate(n=Sum("n"))
        .order_by()
    )
    approved = _by_month([r for r in decided if r["outcome"] == Outcome.APPROVE], "day")
    rejected = _by_month([r for r in decided if r["outcome"] == Outcome.REJECT], "day")
    section = Section(
        "flow", "每月申请、批准、不予保障、停发", ["月份", "申请", "批准", "不予保障", "停发"]
    )
    for month in months:
        section.rows.append(
            [
                f"{month:%Y-%m}",
                applied.get(month, 0),
                approved.get(month, 0),
                rejected.get(month, 0),
                stopped.get(month, 0),
            ]
        )
    labels = [r[0] for r in section.rows]
    series = {name: [r[i] for r in section.rows] for i, name in enumerate(section.columns[1:], 1)}
    section.chart = _chart("line", labels, series)
    return section


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part * 100) / whole).quantize(Decimal("0.1")) if whole else None


def on_time(
    snapshot: DashboardSnapshot, scope: Scope, filters: Filters, names: dict[int, str]
) -> Section:
    rows = (
        summary.tallies(snapshot, Tally.Figure.DECIDED, scope, filters)
        .filter(day__gte=filters.start, day__lte=filters.end)
        .values("unit_id")
        .annotate(decided=Sum("n"), on_time=Sum("n", filter=Q(on_time=True)))
        .order_by("unit_id")
    )
    section = Section(
        "on_time",
        "按期办结率（20个工作日，经批准延期的30个工作日）",
        ["单位", "审核确认案件", "按期办结", "按期办结率(%)"],
    )
    for row in rows:
        on_time_count = row["on_time"] or 0
        section.rows.append(
            [
                names.get(row["unit_id"], ""),
                row["decided"],
                on_time_count,
                _rate(on_time_count, row["decided"]),
            ]
        )
    section.chart = _chart(
        "bar", [r[0] for r in section.rows], {"按期办结率(%)": [r[3] for r in section.rows]}
    )
    return section


def deadlines(cases: QuerySet[Case], names: dict[int, str], today: date) -> Section:
    soon = add_workdays(today, SOON_WORKDAYS).date
    rows = (
        cases.filter(state__in=CLOCK_STATES)
        .values("unit_id")
        .annotate(
            running=Count("id"),
            overdue=Count("id", filter=Q(due_date__lt=today)),
            soon=Count("id", filter=Q(due_date__gte=today, due_date__lte=soon)),
        )
        .order_by("unit_id")
    )
    section = Section(
        "deadlines",
        f"办理期限（即将到期：{SOON_WORKDAYS}个工作日内）",
        ["单位", "在办案件", "已超期", "即将到期"],
    )
    for row in rows:
        section.rows.append(
            [names.get(row["unit_id"], ""), row["running"], row["overdue"], row["soon"]]
        )
    section.chart = _chart(
        "bar",
        [r[0] for r in section.rows],
        {"已超期": [r[2] for r in section.rows], "即将到期": [r[3] for r in section.rows]},
    )
    return section


def beneficiaries(
    snapshot: DashboardSnapshot, scope: Scope, filters: Filters, names: dict[int, str]
) -> Section:
    """Households and money paid in the month per unit and kind (entitlements in force).

    The snapshot's month is summed from its tallies; any other month is read live through
    `disbursement.in_force`, the same reading the tallies were counted with.
    """
    month = filters.month or snapshot.month
    if month == snapshot.month:
        rows = list(
            summary.tallies(snapshot, Tally.Figure.PAID, scope, filters)
            .values("unit_id", "kind")
            .annotate(households=Sum("n"), money=Sum("money"))
            .order_by("unit_id", "kind")
        )
    else:
        rows = paid_in_month(month, scope, filters)
    section = Section(
        "beneficiaries",
        f"{month:%Y年%m月}保障对象及资金（在发待遇）",
        ["单位", "救助类别", "户数", "月发放金额(元)"],
    )
    money_by_unit: dict[str, Decimal] = {}
    for row in rows:
        unit = names.get(row["unit_id"], "")
        money = row["money"] or Decimal("0")
        section.rows.append([unit, KIND_LABELS[row["kind"]], row["households"], money])
        money_by_unit[unit] = money_by_unit.get(unit, Decimal("0")) + money
    section.chart = _chart(
        "bar", list(money_by_unit), {"月发放金额(元)": list(money_by_unit.values())}
    )
    return section


def paid_in_month(month: date, scope: Scope, filters: Filters) -> list[dict[str, Any]]:
    """Households and yuan in force in a month per unit and kind, under the dashboard filters."""
    from disbursement.in_force import month_totals

    where = scope.q()
    if filters.unit_id:
        where &= Q(unit_id=filters.unit_id)
    if filters.kind:
        where &= Q(kind=filters.kind)
    rows: dict[tuple, dict[str, Any]] = {}
    for row in month_totals(month, where).rows:
        key = (row["unit_id"], row["kind"])
        out = rows.setdefault(
            key, {"unit_id": key[0], "kind": key[1], "households": 0, "money": Decimal("0")}
        )
        out["households"] += row["households"]
        out["money"] += row["amount"]
    return [rows[k] for k in sorted(rows)]


def open_findings(
    scope: Scope, filters: Filters, names: dict[int, str], today: date | None = None
) -> Section:
    """Open findings per unit and rule, and the rectifications not yet accepted, with those
    past their due date and still unanswered flagged (逾期未反馈)."""
    today = today or timezone.localdate()
    findings = scope.filter(
        Finding.objects.filter(state=Finding.State.OPEN), village_field="case__village"
    )
    rectifications = scope.filter(
        Rectification.objects.exclude(state=Rectification.State.ACCEPTED),
        village_field="finding__case__village",
    )
    if filters.unit_id:
        findings = findings.filter(unit_id=filters.unit_id)
        rectifications = rectifications.filter(unit_id=filters.unit_id)
    if filters.kind:
        findings = findings.filter(case__kind=filters.kind)
        rectifications = rectifications.filter(finding__case__kind=filters.kind)
    # COUNT(*) rather than COUNT(id): read from the partial index of open findings alone.
    by_rule = findings.values("unit_id", "rule").annotate(n=Count("*")).order_by("unit_id", "rule")
    open_rect = dict(
        rectifications.values("unit_id").annotate(n=Count("id")).values_list("unit_id", "n")
    )
    overdue = dict(
        rectifications.filter(state=Rectification.State.ORDERED, due_on__lt=today)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    section = Section(
        "findings",
        "未关闭的问题及整改",
        ["单位", "问题类型", "问题数", "未验收整改", "其中逾期未反馈"],
    )
    totals: dict[str, int] = {}
    for row in by_rule:
        unit = names.get(row["unit_id"], "")
        section.rows.append([unit, RULE_LABELS[row["rule"]], row["n"], "", ""])
        totals[unit] = totals.get(unit, 0) + row["n"]
    for unit_id, n in open_rect.items():
        section.rows.append([names.get(unit_id, ""), "（整改）", "", n, overdue.get(unit_id, 0)])
    section.chart = _chart("bar", list(totals), {"未关闭问题": list(totals.values())})
    return section


# --- Bulletins ---------------------------------------------------------------------------------

from .bulletins.selectors import bulletin_figures, bulletins_visible_to  # noqa: E402, F401

# --- Monthly statistics for reporting upward -----------------------------------------------------


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = (start.replace(day=28) + timezone.timedelta(days=4)).replace(day=1)
    return start, end - timezone.timedelta(days=1)


STATISTICS_COLUMNS = [
    "救助类别",
    "城乡",
    "单位",
    "户数",
    "人数",
    "月发放金额(元)",
    "本月新增(户)",
    "本月停发(户)",
]


def monthly_statistics(*, month: date, scope: Scope) -> list[list[Any]]:
    """Per kind, urban/rural and unit: households, persons and money in force that month, new
    and stopped; read from the entitlement history (`disbursement.in_force`), the same figures
    the month's roster and the dashboard count, never from the cases' states today."""
    from disbursement.in_force import month_statistics

    buckets = month_statistics(month, scope.q()) + marginal_statistics(month, scope)
    names = _unit_names()
    order = {
        code: i for i, code in enumerate(Unit.objects.order_by("code").values_list("id", flat=True))
    }
    buckets.sort(key=lambda b: (b["kind"], b["area"], order.get(b["unit_id"], 0)))
    return [
        [
            KIND_LABELS[b["kind"]],
            AREA_LABELS.get(b["area"], b["area"]),
            names.get(b["unit_id"], ""),
            b["households"],
            b["persons"],
            b["money"] or Decimal("0.00"),
            b["new"],
            b["stopped"],
        ]
        for b in buckets
    ]


def marginal_statistics(month: date, scope: Scope) -> list[dict[str, Any]]:
    """低保边缘家庭 are recognised, not paid: counted in a month from their decisions and
    terminations as they happened (an imported one from its import), never from today's state."""
    start, end = month_bounds(month)
    first, after = month_start_moment(start), month_start_moment(end + timezone.timedelta(days=1))
    cases = scope.filter(Case.objects.filter(kind=Kind.MARGINAL, outcome=Outcome.APPROVE))
    began = Q(imported=False, decided_on__lte=end) | Q(imported=True, submitted_at__lt=after)
    # As for a paid household, one terminated during the month is that month's stop, not in it.
    ended = Q(events__to_state=State.TERMINATED, events__at__lt=after)
    live = cases.filter(began).exclude(pk__in=cases.filter(ended).values("pk"))
    keys = ("unit_id", "kind", "area")
    members = Q(household__members__left_on__isnull=True) | Q(
        household__members__left_on__gte=start
    )
    figures: dict[tuple, dict[str, Any]] = {}
    for row in live.values(*keys).annotate(
        h=Count("id", distinct=True),
        p=Count("household__members", filter=members, distinct=True),
        n=Count("id", filter=Q(imported=False, decided_on__gte=start), distinct=True),
    ):
        figures[tuple(row[k] for k in keys)] = {
            **{k: row[k] for k in keys},
            "households": row["h"],
            "persons": row["p"],
            "money": Decimal("0.00"),
            "new": row["n"],
            "stopped": 0,
        }
    stopped = (
        cases.filter(events__to_state=State.TERMINATED, events__at__gte=first, events__at__lt=after)
        .values(*keys)
        .annotate(s=Count("id", distinct=True))
    )
    for row in stopped:
        key = tuple(row[k] for k in keys)
        bucket = figures.setdefault(
            key,
            {
                **{k: row[k] for k in keys},
                "households": 0,
                "persons": 0,
                "money": Decimal("0.00"),
                "new": 0,
            },
        )
        bucket["stopped"] = row["s"]
    return list(figures.values())


def month_start_moment(day: date) -> datetime:
    """Midnight at the start of a local day (Asia/Shanghai)."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass
class StatisticsReport:
    """The monthly report as the region collects it: by kind and area, by unit, and detail."""

    month: date
    detail: list[list[Any]]
    by_category: Section
    by_unit: Section
    totals: list[Any]

    @property
    def sections(self) -> list[Section]:
        return [self.by_category, self.by_unit]

    @property
    def charts(self) -> dict[str, dict]:
        charts = {s.key: s.chart for s in self.sections if s.chart}
        units = list(dict.fromkeys(r[2] for r in self.detail))
        kinds = list(dict.fromkeys(r[0] for r in self.detail))
        households = {(r[2], r[0]): 0 for r in self.detail}
        for row in self.detail:
            households[(row[2], row[0])] += row[3]
        charts["detail"] = _chart(
            "bar",
            units,
            {k: [households.get((u, k), 0) for u in units] for k in kinds},
            stack=True,
        )
        return charts


def _summed(rows: list[list[Any]], key) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for row in rows:
        bucket = out.setdefault(key(row), [0, 0, Decimal("0.00"), 0, 0])
        for i, value in enumerate(row[3:8]):
            bucket[i] += value
    return out


def statistics_report(*, month: date, scope: Scope) -> StatisticsReport:
    """The month's statistics with a table and a chart per view (one reading: `monthly_statistics`)."""
    detail = monthly_statistics(month=month, scope=scope)
    figures = ["户数", "人数", "月发放金额(元)", "本月新增(户)", "本月停发(户)"]
    by_category = Section("by_category", "按救助类别和城乡汇总", ["救助类别", "城乡", *figures])
    for (kind, area), values in _summed(detail, lambda r: (r[0], r[1])).items():
        by_category.rows.append([kind, area, *values])
    by_category.chart = _chart(
        "bar",
        [f"{r[0]}（{r[1]}）" for r in by_category.rows],
        {"月发放金额(元)": [r[4] for r in by_category.rows]},
    )
    by_unit = Section("by_unit", "按单位汇总", ["单位", *figures])
    for unit, values in _summed(detail, lambda r: r[2]).items():
        by_unit.rows.append([unit, *values])
    by_unit.chart = _chart(
        "bar",
        [r[0] for r in by_unit.rows],
        {"户数": [r[1] for r in by_unit.rows], "本月新增(户)": [r[4] for r in by_unit.rows]},
    )
    total = _summed(detail, lambda r: "合计").get("合计", [0, 0, Decimal("0.00"), 0, 0])
    return StatisticsReport(month, detail, by_category, by_unit, ["合计", "", "", *total])


# --- Third-party agencies -----------------------------------------------------------------------


def draw_strata(draw) -> list[dict[str, Any]]:
    """One row per unit and kind of a draw: cases in the stratum, drawn, checked so far."""
    rows = (
        SpotCheckSample.objects.filter(draw=draw)
        .order_by()
        .values("unit_id", "unit__name", "unit__code", "kind")
        .annotate(
            stratum=Max("stratum_size"),
            drawn=Count("id"),
            checked=Count("id", filter=Q(checked_at__isnull=False)),
        )
        .order_by("unit__code", "kind")
    )
    return [{**row, "kind_label": KIND_LABELS.get(row["kind"], row["kind"])} for row in rows]


def draw_samples(
    draw, *, unit_id: int | None = None, kind: str = "", checked: str = ""
) -> QuerySet[SpotCheckSample]:
    """A draw's samples by unit and kind, optionally one unit's, one kind's, checked ("yes")
    or not yet ("no"); unknown filter values are ignored."""
    samples = draw.samples.select_related("case", "unit").order_by("unit__code", "kind", "case_id")
    if unit_id is not None:
        samples = samples.filter(unit_id=unit_id)
    if kind in KIND_LABELS:
        samples = samples.filter(kind=kind)
    if checked in ("yes", "no"):
        samples = samples.filter(checked_at__isnull=checked == "no")
    return samples


def agency_sheet(*, start: date, end: date) -> list[dict[str, Any]]:
    """Per agency: cases assigned in the period, decided on time, and spot-check results on its visits."""
    assigned = {
        row["agency_id"]: row
        for row in Case.objects.filter(
            agency__isnull=False, submitted_at__date__gte=start, submitted_at__date__lte=end
        )
        .values("agency_id")
        .annotate(
            assigned=Count("id"),
            decided=Count("id", filter=Q(decided_on__isnull=False)),
            on_time=Count("id", filter=Q(decided_on_time=True)),
        )
    }
    checked = {
        row["case__agency_id"]: row
        for row in SpotCheckSample.objects.filter(
            case__agency__isnull=False,
            checked_at__isnull=False,
            case__submitted_at__date__gte=start,
            case__submitted_at__date__lte=end,
        )
        .values("case__agency_id")
        .annotate(
            checked=Count("id"), problems=Count("id", filter=Q(results__home_visit__ok=False))
        )
    }
    sheet = []
    for agency in Unit.objects.filter(kind=UnitKind.AGENCY).order_by("code"):
        a = assigned.get(agency.pk, {"assigned": 0, "decided": 0, "on_time": 0})
        c = checked.get(agency.pk, {"checked": 0, "problems": 0})
        sheet.append(
            {
                "agency": agency,
                **{k: a[k] for k in ("assigned", "decided", "on_time")},
                "on_time_rate": _rate(a["on_time"], a["decided"]),
                "checked": c["checked"],
                "problems": c["problems"],
                "pass_rate": _rate(c["checked"] - c["problems"], c["checked"]),
            }
        )
    return sheet


# --- Yearly assessment ------------------------------------------------------------------------

HUNDRED = Decimal(100)


PART_LABELS = {
    "on_time": "按期办结率",
    "findings": "每案问题数",
    "rectification": "按期整改率",
    "spot_check": "实地抽查合格率",
    "complaints": "信访举报不属实率",
    "training": "培训覆盖率",
}


def yearly_assessment(*, year: int, weights: AssessmentWeights | None = None) -> list[dict]:
    """Each approval unit's score for a year from the year's records, ranked; a part with
    nothing to judge is left out of the weighting, and a unit with nothing at all to judge
    is shown as such after the ranked units, never with full marks."""
    from .models import Complaint
    from .training.selectors import coverage_by_unit

    weights = weights or AssessmentWeights.current()
    start, end = date(year, 1, 1), date(year, 12, 31)
    decided = _per_unit(
        Case.objects.filter(decided_on__gte=start, decided_on__lte=end),
        n=Count("id"),
        good=Count("id", filter=Q(decided_on_time=True)),
    )
    findings = _per_unit(
        Finding.objects.filter(first_seen__date__gte=start, first_seen__date__lte=end),
        n=Count("id"),
    )
    rectifications = _per_unit(
        Rectification.objects.filter(due_on__gte=start, due_on__lte=end),
        n=Count("id"),
        good=Count("id", filter=Q(answered_at__isnull=False, answered_at__date__lte=F("due_on"))),
    )
    problem = Q()
    for item in CheckItem.values:
        problem |= Q(**{f"results__{item}__ok": False})
    samples = _per_unit(
        SpotCheckSample.objects.filter(checked_at__date__gte=start, checked_at__date__lte=end),
        n=Count("id"),
        bad=Count("id", filter=problem),
    )
    complaints = _per_unit(
        Complaint.objects.filter(
            received_on__gte=start, received_on__lte=end, substantiated__isnull=False
        ),
        n=Count("id"),
        bad=Count("id", filter=Q(substantiated=True)),
    )
    coverage = coverage_by_unit(year)
    sheet = []
    for unit in Unit.objects.approval_units().order_by("code"):
        d = decided.get(unit.pk, {"n": 0, "good": 0})
        f = findings.get(unit.pk, {"n": 0})["n"]
        r = rectifications.get(unit.pk, {"n": 0, "good": 0})
        s = samples.get(unit.pk, {"n": 0, "bad": 0})
        c = complaints.get(unit.pk, {"n": 0, "bad": 0})
        t = coverage[unit.pk]
        parts = {
            "on_time": _part(d["good"], d["n"]),
            "findings": _findings_part(f, d["n"]),
            "rectification": _part(r["good"], r["n"]),
            "spot_check": _part(s["n"] - s["bad"], s["n"]),
            "complaints": _part(c["n"] - c["bad"], c["n"]),
            "training": _part(len(t.trained), t.people) if t.sessions else None,
        }
        sheet.append(
            {
                "unit": unit,
                "score": _score(parts, weights),
                "parts": {
                    k: v.quantize(Decimal("0.1")) if v is not None else None
                    for k, v in parts.items()
                },
                "evidence": {
                    "decided": d["n"],
                    "on_time": d["good"],
                    "findings": f,
                    "rectifications": r["n"],
                    "rectified_on_time": r["good"],
                    "samples_checked": s["n"],
                    "samples_with_problems": s["bad"],
                    "complaints": c["n"],
                    "complaints_substantiated": c["bad"],
                    "trainees": t.people,
                    "trained": len(t.trained),
                    "training_sessions": t.sessions,
                },
            }
        )
    return _ranked(sheet)


def _per_unit(queryset: QuerySet, **aggregates) -> dict[int, dict[str, int]]:
    return {row["unit_id"]: row for row in queryset.values("unit_id").annotate(**aggregates)}


def _part(good: int, total: int) -> Decimal | None:
    """A share as points out of 100; None when there is nothing to judge."""
    return HUNDRED * good / total if total else None


def _findings_part(findings: int, decided: int) -> Decimal | None:
    if decided:
        return max(Decimal(0), HUNDRED - HUNDRED * findings / decided)
    return Decimal(0) if findings else None


def _score(parts: dict[str, Decimal | None], weights: AssessmentWeights) -> Decimal | None:
    """The weighted mean of the parts that have something to judge."""
    weighed = [(getattr(weights, key), value) for key, value in parts.items() if value is not None]
    total = sum((w for w, _ in weighed), Decimal(0))
    if not total:
        return None
    return (sum(w * v for w, v in weighed) / total).quantize(Decimal("0.1"))


def _ranked(sheet: list[dict]) -> list[dict]:
    scored = sorted(
        (row for row in sheet if row["score"] is not None),
        key=lambda row: (-row["score"], row["unit"].code),
    )
    for rank, row in enumerate(scored, 1):
        row["rank"] = rank
    idle = [row for row in sheet if row["score"] is None]
    for row in idle:
        row["rank"] = None
    return scored + idle


def assessment_evidence(*, unit: Unit, year: int) -> dict[str, Any]:
    """The records behind a unit's yearly score, one list per part of the score."""
    from .models import Complaint
    from .training.selectors import unit_coverage

    start, end = date(year, 1, 1), date(year, 12, 31)
    decided = Case.objects.filter(unit=unit, decided_on__gte=start, decided_on__lte=end)
    return {
        "decided": decided.count(),
        "late_cases": decided.exclude(decided_on_time=True).order_by("decided_on")[:200],
        "findings": Finding.objects.filter(
            unit=unit, first_seen__date__gte=start, first_seen__date__lte=end
        ).select_related("case")[:500],
        "rectifications": Rectification.objects.filter(
            unit=unit, due_on__gte=start, due_on__lte=end
        ).select_related("finding"),
        "samples": [
            (
                sample,
                [CheckItem(item).label for item in sample.problems if item in CheckItem.values],
            )
            for sample in SpotCheckSample.objects.filter(
                unit=unit, checked_at__date__gte=start, checked_at__date__lte=end
            ).select_related("case")
        ],
        "complaints": Complaint.objects.filter(
            unit=unit, received_on__gte=start, received_on__lte=end, substantiated__isnull=False
        ),
        "coverage": unit_coverage(unit, year),
    }


def supervisor_home(user) -> dict[str, Any]:
    """The county supervisor's home block: open findings, overdue cases, pending complaints."""
    from .models import Complaint

    today = timezone.localdate()
    open_findings = Finding.objects.filter(state=Finding.State.OPEN).count()
    overdue = Case.objects.filter(state__in=CLOCK_STATES, due_date__lt=today).count()
    answered = Rectification.objects.filter(state=Rectification.State.ANSWERED).count()
    late = Rectification.objects.filter(state=Rectification.State.ORDERED, due_on__lt=today).count()
    pending = Complaint.objects.exclude(
        state__in=[Complaint.State.ANSWERED, Complaint.State.CLOSED]
    ).count()
    items = [
        {"url": "/supervision/findings/", "label": f"未关闭的问题 {open_findings} 个", "note": ""},
        {"url": "/supervision/", "label": f"超期未办结案件 {overdue} 件", "note": "全县"},
        {"url": "/supervision/findings/", "label": f"待验收的整改反馈 {answered} 项", "note": ""},
        {
            "url": "/supervision/#findings",
            "label": f"逾期未反馈的整改 {late} 项",
            "note": "",
        },
        {"url": "/supervision/complaints/", "label": f"待办信访举报 {pending} 件", "note": ""},
    ]
    return {
        "title": "监督核查",
        "items": items,
        "empty": "暂无待处理事项。",
        "count": open_findings + answered + pending,
        "links": [
            {"url": "/supervision/", "label": "统计看板"},
            {"url": "/supervision/spot-checks/", "label": "实地抽查"},
            {"url": "/supervision/bulletins/", "label": "工作通报"},
        ],
    }


def is_supervisor(user) -> bool:
    return user.is_county_staff and user.has_role(Role.COUNTY_SUPERVISOR)


EVIDENCE_LABELS = {
    "sample": "抽查案件",
    "draw": "抽查批次",
    "complaint": "信访举报",
    "subject": "事由",
    "investigation": "调查情况",
    "missing": "缺少",
    "out_of_order": "顺序错误",
    "accepted_on": "受理日期",
    "due_date": "办理期限",
    "decided_on": "审核确认日期",
    "extended": "是否延期",
    "extension_signed": "延期是否经签批",
    "stored": "系统记录金额",
    "recomputed": "按核算复算金额",
    "assessment": "收入核算记录",
    "assessment_amount": "核算金额",
    "others": "同一身份证号的其他案件",
    "units": "涉及单位数",
    "age_at_decision": "审核确认时年龄",
    "rule": "适用条件",
    "starts_on": "公示开始日期",
    "ends_on": "公示结束日期",
    "days": "公示天数",
    "required": "规定天数",
}


def evidence_rows(finding: Finding) -> list[tuple[str, str]]:
    """A finding's evidence as labelled Chinese lines: spot-check problems by checklist item,
    other keys by their Chinese label, never a stored key or a Python value."""
    rows = []
    for key, value in (finding.evidence or {}).items():
        if key == "sample" and isinstance(value, int):
            sample = SpotCheckSample.objects.select_related("case").filter(pk=value).first()
            if sample is not None:
                rows.append((EVIDENCE_LABELS[key], sample.case.number))
        elif key == "draw" and isinstance(value, int):
            draw = SpotCheckDraw.objects.filter(pk=value).first()
            if draw is not None:
                rows.append((EVIDENCE_LABELS[key], str(draw)))
        elif key == "problems" and isinstance(value, dict):
            for item, note in value.items():
                label = CheckItem(item).label if item in CheckItem.values else "问题"
                rows.append((label, str(note)))
        elif isinstance(value, bool):
            rows.append((EVIDENCE_LABELS.get(key, "依据"), "是" if value else "否"))
        elif isinstance(value, str | int | float):
            rows.append((EVIDENCE_LABELS.get(key, "依据"), str(value)))
        elif isinstance(value, list) and value:
            rows.append((EVIDENCE_LABELS.get(key, "依据"), "、".join(_plain(v) for v in value)))
    return rows


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "，".join(str(v) for v in value.values())
    return str(value)


def findings_visible_to(user) -> QuerySet[Finding]:
    """Findings of the units (or village) a user may see; county staff see all."""
    return scope_for(user).filter(
        Finding.objects.select_related("case", "unit"), village_field="case__village"
    )


def dashboard_scope_for(user) -> Scope | None:
    """County staff see the county; a unit's leaders see their unit; others nothing (None)."""
    scope = scope_for(user)
    if scope.everything:
        return scope
    if scope.unit_id and user.has_role(Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE):
        return scope
    return None


# --- The field spot-check checklist ---------------------------------------------------------


def sample_facts(sample: SpotCheckSample) -> dict[str, Any]:
    """What the checker checks the household against: its members (ID numbers masked), the
    decision (kind, outcome, amount) and the incomes and assets the latest assessment counted."""
    from cases.assessment import calculation_sheet
    from cases.facts.selectors import current_facts
    from cases.selectors import outcome_words

    case = sample.case
    facts = current_facts(case)
    today = timezone.localdate()
    members = [
        {
            "name": person.name,
            "relation": person.get_relation_display(),
            "id_number": person.masked_id or "—",
            "age": person.age_on(today),
            "work_ability": person.get_work_ability_display(),
            "disability": f"{person.disability_grade}级" if person.disability_grade else "无",
        }
        for person in facts.members
    ]
    assessment = case.assessments.order_by("-assessed_at", "-id").first()
    sheet = calculation_sheet(assessment) if assessment is not None else None
    if sheet is not None and sheet["lines"]:
        incomes = [
            {
                "person": line["person"],
                "kind": line["kind"],
                "source": line["source"],
                "monthly_amount": line["monthly_amount"],
                "counted": "不计入（" + line["exempt_reason"] + "）"
                if line["exempt"]
                else f"计入 {line['counted']}元",
            }
            for line in sheet["lines"]
        ]
    else:
        # An assessment stored without its lines: the incomes on record stand in for them.
        incomes = [
            {
                "person": income.person.name,
                "kind": income.get_kind_display(),
                "source": income.source,
                "monthly_amount": income.monthly_amount,
                "counted": "不计入（" + income.exempt_reason + "）" if income.exempt else "计入",
            }
            for income in facts.incomes
        ]
    assets = [
        {"kind": a.get_kind_display(), "value": a.value, "description": a.description or "—"}
        for a in facts.assets
    ]
    amount = case.monthly_amount if case.monthly_amount is not None else None
    return {
        "decision": [
            ("救助类别", case.get_kind_display()),
            ("审核确认结果", outcome_words(case.kind, case.outcome) or "—"),
            ("审核确认日期", case.decided_on.strftime("%Y-%m-%d") if case.decided_on else "—"),
            ("月救助金额", f"{amount}元" if amount is not None else "—"),
            ("嘎查村/社区", case.village.name),
        ],
        "assessment": [
            ("家庭人口", f"{sheet['household_size']}人"),
            ("计入家庭月收入", f"{sheet['counted_monthly_income']}元"),
            ("月人均收入", f"{sheet['per_capita_income']}元"),
            ("适用标准", f"{sheet['standard']}元"),
            ("核算结论", "符合条件" if sheet["eligible"] else "不符合条件"),
        ]
        if sheet is not None
        else [],
        "members": members,
        "incomes": incomes,
        "assets": assets,
    }


def result_rows(sample: SpotCheckSample) -> list[tuple[str, str, str]]:
    """The recorded checklist in words: (item, 无问题/有问题, note), in checklist order."""
    rows = []
    for item, label in CheckItem.choices:
        result = (sample.results or {}).get(item)
        if isinstance(result, dict):
            rows.append(
                (label, "无问题" if result.get("ok") else "有问题", result.get("note") or "")
            )
    return rows


def finding_checklist(finding: Finding) -> dict[str, Any] | None:
    """A spot-check finding's whole checklist as recorded, with the sample it came from."""
    sample_id = (finding.evidence or {}).get("sample")
    if finding.rule != Rule.SPOT_CHECK or not isinstance(sample_id, int):
        return None
    sample = SpotCheckSample.objects.select_related("checked_by").filter(pk=sample_id).first()
    if sample is None:
        return None
    return {"sample": sample, "rows": result_rows(sample)}
