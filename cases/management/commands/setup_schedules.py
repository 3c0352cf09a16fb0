from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from dengkou_aid.schedules import SCHEDULES, TIMEZONE


class Command(BaseCommand):
    help = "创建（或以 --reset 恢复）定时任务：期限扫描、20日截止提醒、清册未报送检查、抽查抽样。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reset", action="store_true", help="覆盖管理后台中已修改的时间设置")

    @transaction.atomic
    def handle(self, *args, reset: bool = False, **options) -> None:
        for schedule in SCHEDULES:
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=schedule.minute,
                hour=schedule.hour,
                day_of_month=schedule.day_of_month,
                month_of_year=schedule.month_of_year,
                day_of_week=schedule.day_of_week,
                timezone=TIMEZONE,
            )
            values = {
                "task": schedule.task,
                "crontab": crontab,
                "description": schedule.description,
                "enabled": True,
            }
            task, created = PeriodicTask.objects.get_or_create(name=schedule.name, defaults=values)
            if not created and reset:
                for field, value in values.items():
                    setattr(task, field, value)
                task.save()
            state = "已创建" if created else ("已恢复" if reset else "已存在，保留后台设置")
            self.stdout.write(f"{schedule.name}（{schedule.task}）：{state}")
