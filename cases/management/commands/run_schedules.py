from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from dengkou_aid.celery import app
from dengkou_aid.schedules import SCHEDULES, accepts_day, crontab_fires_on


class Command(BaseCommand):
    help = "在本进程内运行指定日期定时任务（beat）应运行的全部任务，无需 Redis。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD，默认今天")

    def handle(self, *args, date: str | None = None, **options) -> None:
        day = _parse(date) if date else timezone.localdate()
        app.loader.import_default_modules()
        for name, task_name, crontab, kwargs in _entries():
            if not crontab_fires_on(crontab, day):
                continue
            task = app.tasks.get(task_name)
            if task is None:
                self.stderr.write(f"{name}：任务 {task_name} 尚未实现，跳过")
                continue
            if accepts_day(task):
                kwargs = {**kwargs, "day": day.isoformat()}
            result = task.apply(kwargs=kwargs, throw=True).get()
            self.stdout.write(f"{name}（{task_name}）：{result}")


def _parse(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期“{text}”格式有误，应为YYYY-MM-DD") from None


def _entries():
    """Enabled crontab entries from the beat tables, or the defaults if none were set up."""
    rows = PeriodicTask.objects.filter(enabled=True, crontab__isnull=False).select_related(
        "crontab"
    )
    if rows.exists():
        for row in rows.order_by("crontab__hour", "crontab__minute", "name"):
            yield row.name, row.task, row.crontab.schedule, json.loads(row.kwargs or "{}")
        return
    from celery.schedules import crontab

    for s in SCHEDULES:
        schedule = crontab(s.minute, s.hour, s.day_of_week, s.day_of_month, s.month_of_year)
        yield s.name, s.task, schedule, {}
