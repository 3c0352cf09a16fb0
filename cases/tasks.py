"""Celery tasks of the cases layer: thin, idempotent (every notice has a unique key)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from celery import shared_task

from .deadlines import cutoffs, holidays
from .deadlines import services as deadlines


def _day(day: str | None) -> date | None:
    return date.fromisoformat(day) if day else None


@shared_task(name="cases.tasks.scan_deadlines")
def scan_deadlines(day: str | None = None) -> dict:
    """The daily deadline scan: 5- and 2-day warnings, overdue flags, provisional dates."""
    return asdict(deadlines.scan_deadlines(today=_day(day)))


@shared_task(name="cases.tasks.send_cutoff_reminders")
def send_cutoff_reminders(day: str | None = None) -> int:
    """Remind approval units of the day-20 cut-off (does nothing outside the reminder days)."""
    return cutoffs.send_cutoff_reminders(today=_day(day))


@shared_task(name="cases.tasks.recompute_provisional_deadlines")
def recompute_provisional_deadlines(day: str | None = None) -> int:
    """Fix the provisional due dates whose year has since been entered."""
    return holidays.recompute_provisional_deadlines()
