"""What a bulletin says: per unit, its decisions, its findings grouped by their true source
(system checks, field spot checks, complaints) and the open ones it must rectify."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import Role, Unit
from cases.models import Case

from ..models import Bulletin, CheckItem, Finding, Source, SpotCheckSample

BULLETIN_READERS = (Role.HANDLER, Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE)


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part * 100) / whole).quantize(Decimal("0.1")) if whole else None


def period_findings(period_start: date, period_end: date) -> QuerySet[Finding]:
    """Findings first raised in the period (local dates)."""
    return (
        Finding.objects.filter(first_seen__date__gte=period_start, first_seen__date__lte=period_end)
        .select_related("case")
        .order_by("unit_id", "rule", "id")
    )


def bulletin_figures(*, period_start: date, period_end: date) -> dict[str, Any]:
    """Per approval unit with findings in the period, and for the county: the figures."""
    decided = {
        row["unit_id"]: row
        for row in Case.objects.filter(decided_on__gte=period_start, decided_on__lte=period_end)
        .values("unit_id")
        .annotate(n=Count("id"), on_time=Count("id", filter=Q(decided_on_time=True)))
    }
    by_unit: dict[int, list[Finding]] = {}
    for finding in period_findings(period_start, period_end):
        by_unit.setdefault(finding.unit_id, []).append(finding)
    samples: dict[int, list[SpotCheckSample]] = {}
    for sample in (
        SpotCheckSample.objects.filter(
            draw__period_start__gte=period_start, draw__period_end__lte=period_end
        )
        .select_related("case")
        .order_by("unit_id", "case_id")
    ):
        samples.setdefault(sample.unit_id, []).append(sample)
    units = [
        _unit_figures(unit, decided.get(unit.pk), by_unit[unit.pk], samples.get(unit.pk, []))
        for unit in Unit.objects.approval_units().filter(id__in=by_unit).order_by("code")
    ]
    counts = {s.value: sum(u["counts"][s.value] for u in units) for s in Source}
    return {
        "units": units,
        "cases_decided": sum(row["n"] for row in decided.values()),
        "on_time": sum(row["on_time"] for row in decided.values()),
        "counts": counts,
        "sources": [{"label": s.label, "count": counts[s.value]} for s in Source],
        "findings_count": sum(counts.values()),
        "open_count": sum(u["open_count"] for u in units),
        "samples": sum(len(v) for v in samples.values()),
    }


def _unit_figures(unit, decided, findings, samples) -> dict[str, Any]:
    decided = decided or {"n": 0, "on_time": 0}
    groups = [
        {
            "key": source.value,
            "label": source.label,
            "findings": [_finding_line(f) for f in findings if f.source == source],
        }
        for source in Source
    ]
    demanded = [_finding_line(f) for f in findings if f.state == Finding.State.OPEN]
    return {
        "unit": unit,
        "cases_decided": decided["n"],
        "on_time": decided["on_time"],
        "on_time_rate": _rate(decided["on_time"], decided["n"]),
        "groups": groups,
        "counts": {g["key"]: len(g["findings"]) for g in groups},
        "findings_count": len(findings),
        "demanded": demanded,
        "open_count": len(demanded),
        "closed_count": len(findings) - len(demanded),
        "samples": len(samples),
        "checked": sum(1 for s in samples if s.checked_at),
        "problems": [_sample_line(s) for s in samples if s.problems],
    }


def _finding_line(finding: Finding) -> dict[str, str]:
    return {
        "rule": finding.get_rule_display(),
        "case": finding.case.number if finding.case else "",
        "state": finding.get_state_display(),
        "detail": finding_detail_text(finding),
    }


def finding_detail_text(finding: Finding) -> str:
    """A finding's evidence as a Chinese sentence (never the stored keys)."""
    evidence = finding.evidence or {}
    problems = evidence.get("problems")
    if isinstance(problems, dict):
        return "；".join(
            f"{CheckItem(item).label}：{note}" if item in CheckItem.values else str(note)
            for item, note in problems.items()
        )
    if evidence.get("subject"):
        return f"信访举报：{evidence['subject']}"
    return ""


def _sample_line(sample: SpotCheckSample) -> dict[str, str]:
    return {
        "case": sample.case.number,
        "problems": "；".join(
            f"{CheckItem(item).label}：{sample.results[item].get('note', '')}"
            for item in sample.problems
        ),
    }


def bulletins_visible_to(user) -> QuerySet[Bulletin]:
    """County staff read every bulletin; a unit's handler and leaders read the county-wide
    bulletin and their own unit's; anyone else none."""
    if user.is_county_staff:
        return Bulletin.objects.all()
    if user.unit_id and user.has_role(*BULLETIN_READERS):
        return Bulletin.objects.filter(Q(unit_id=user.unit_id) | Q(unit__isnull=True))
    return Bulletin.objects.none()
