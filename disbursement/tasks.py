"""Celery tasks: thin wrappers that reload rows by id and call the app's code."""

from __future__ import annotations

from celery import shared_task

from .services import generate_all_rosters, next_month


@shared_task
def run_export(job_id: int) -> None:
    from .exports import run_export_job

    run_export_job(job_id)


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


# --- Caseload import (disbursement/imports/caseload.py) -----------------------------------


@shared_task
def preview_import_batch(batch_id: int) -> None:
    """Check an uploaded caseload file and store its preview; writes nothing else."""
    from .imports.caseload import preview_batch

    preview_batch(batch_id)


@shared_task
def run_import_batch(batch_id: int) -> None:
    """Import a confirmed caseload file in one transaction; returns early if already done."""
    from .imports.caseload import run_import

    run_import(batch_id)


# --- Monthly cut-offs (disbursement/roster_checks.py; dates from cases.cutoffs) -----------


@shared_task(name="disbursement.tasks.flag_missing_rosters")
def flag_missing_rosters(day: str | None = None) -> int:
    """Daily (beat): after the 25th, or the county's leave, flag missing rosters once per unit."""
    from .roster_checks import flag_missing_rosters as flag

    return flag(today=_review_day(day))
