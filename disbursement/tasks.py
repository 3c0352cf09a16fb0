"""Celery tasks: thin wrappers that reload rows by id and call the app's code."""

from __future__ import annotations

from celery import shared_task

# The export and import tasks live beside the work they run (so the module that queues them
# does not import this one back); importing them here registers them with the worker.
from .exports import run_export  # noqa: F401
from .imports.preview import preview_import_batch  # noqa: F401
from .imports.write import run_import_batch  # noqa: F401
from .services import generate_all_rosters, next_month


@shared_task
def generate_next_month_rosters() -> int:
    """The 20th's run (beat schedule): every unit's roster for next month."""
    return len(generate_all_rosters(month=next_month(), actor=None))


# --- Dynamic management (disbursement/reviews/services.py) ----------------------------------------


@shared_task(name="disbursement.tasks.open_due_reviews")
def open_due_reviews(day: str | None = None) -> int:
    """Monthly (beat, 1st of the month): open the periodic reviews that fall due; idempotent."""
    from .reviews.services import open_due_reviews as open_due

    return open_due(today=_review_day(day))


@shared_task(name="disbursement.tasks.flag_overdue_reviews")
def flag_overdue_reviews(day: str | None = None) -> int:
    """Daily (beat): tell the county's supervisors which units have overdue reviews."""
    from .reviews.services import flag_overdue_reviews as flag

    return flag(today=_review_day(day))


def _review_day(day: str | None):
    from datetime import date

    return date.fromisoformat(day) if day else None


# --- Monthly cut-offs (disbursement/roster_checks.py; dates from cases.deadlines.cutoffs) -----------


@shared_task(name="disbursement.tasks.flag_missing_rosters")
def flag_missing_rosters(day: str | None = None) -> int:
    """Daily (beat): after the 25th, or the county's leave, flag missing rosters once per unit."""
    from .roster_checks import flag_missing_rosters as flag

    return flag(today=_review_day(day))
