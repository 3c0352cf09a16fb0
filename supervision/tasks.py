"""Celery tasks of supervision: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import services
from .models import SpotCheckDraw


@shared_task(name="supervision.tasks.run_nightly_checks")
def run_nightly_checks() -> dict:
    """Run every system-check rule over the whole county."""
    return services.run_system_checks()


@shared_task(name="supervision.tasks.draw_monthly_sample")
def draw_monthly_sample() -> int:
    """Draw last month's field spot-check sample, once: a rerun returns the existing draw."""
    start, end = services.previous_month(timezone.localdate())
    existing = SpotCheckDraw.objects.filter(
        period_start=start, period_end=end, redraw_of__isnull=True
    ).first()
    if existing is not None:
        return existing.pk
    return services.draw_spot_check_sample(period_start=start, period_end=end, actor=None).pk
