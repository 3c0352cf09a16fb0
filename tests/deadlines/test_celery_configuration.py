"""Celery's safety rails: no countdown past the visibility timeout, schedules in the beat
tables, and run_schedules doing a day's work in process."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import Notification
from cases.tasks import scan_deadlines
from dengkou_aid.celery import visibility_timeout


def test_a_countdown_beyond_the_visibility_timeout_is_refused(db):
    limit = visibility_timeout(scan_deadlines.app)
    with pytest.raises(ValueError, match="visibility"):
        scan_deadlines.apply_async(countdown=limit + 1)
    with pytest.raises(ValueError, match="visibility"):
        scan_deadlines.apply_async(eta=timezone.now() + timedelta(seconds=limit + 60))


def test_a_countdown_within_the_visibility_timeout_is_queued(db):
    assert scan_deadlines.apply_async(countdown=60).successful()  # eager in tests


def test_setup_schedules_creates_the_beat_entries_once_and_keeps_admin_edits(db):
    call_command("setup_schedules")
    scan = PeriodicTask.objects.get(task="cases.tasks.scan_deadlines")
    assert (scan.crontab.hour, scan.crontab.minute) == ("6", "0")
    assert str(scan.crontab.timezone) == "Asia/Shanghai"
    assert set(PeriodicTask.objects.values_list("task", flat=True)) >= {
        "cases.tasks.send_cutoff_reminders",
        "disbursement.tasks.flag_missing_rosters",
        "supervision.tasks.draw_monthly_sample",
    }
    scan.enabled = False
    scan.save()
    call_command("setup_schedules")
    assert not PeriodicTask.objects.get(pk=scan.pk).enabled
    call_command("setup_schedules", "--reset")
    assert PeriodicTask.objects.get(pk=scan.pk).enabled


def test_run_schedules_runs_the_days_tasks_in_process(people, make_case, capsys):
    from datetime import date

    from ..disbursement.conftest import entitled

    case = make_case(due_date=date(2026, 12, 4))
    entitled(people.village_a, actor=people.handler)  # unit A owes December's roster
    call_command("setup_schedules")
    capsys.readouterr()
    call_command("run_schedules", "--date", "2026-11-27")
    out = capsys.readouterr().out
    assert "每日办结期限扫描" in out
    assert "每月实地抽查抽样" not in out  # only on the 1st
    assert people.handler.notifications.filter(key=f"deadline:{case.pk}:2026-12-04:5").exists()
    assert Notification.objects.filter(key__startswith="roster-missing:").exists()


def test_run_schedules_refuses_a_malformed_date(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="格式有误"):
        call_command("run_schedules", "--date", "2026-13-01")
