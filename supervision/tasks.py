"""Celery tasks of supervision: thin wrappers that call a service, safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from . import services
from .models import SpotCheckDraw


@shared_task(name="supervision.tasks.run_nightly_checks")
def run_nightly_checks(day: str | None = None) -> dict:
    """Run every system-check rule over the whole county (findings are raised once, closed when
    fixed), then count the dashboard's summary figures afresh."""
    from . import summary

    result = services.run_system_checks()
    summary.refresh()
    return result


@shared_task(name="supervision.tasks.draw_monthly_sample")
def draw_monthly_sample(day: str | None = None) -> int:
    """Draw the previous month's field spot-check sample once; a rerun returns the existing draw."""
    today = date.fromisoformat(day) if day else timezone.localdate()
    start, end = services.previous_month(today)
    existing = SpotCheckDraw.objects.filter(
        period_start=start, period_end=end, redraw_of__isnull=True
    ).first()
    if existing is not None:
        return existing.pk
    return services.draw_spot_check_sample(period_start=start, period_end=end, actor=None).pk
