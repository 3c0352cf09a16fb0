"""What beat runs, in Asia/Shanghai time: written to django_celery_beat's tables by
`manage.py setup_schedules` (then editable in the admin) and run for one date, in process,
by `manage.py run_schedules --date YYYY-MM-DD`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import date

TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    description: str
    minute: str = "0"
    hour: str = "6"
    day_of_month: str = "*"
    month_of_year: str = "*"
    day_of_week: str = "*"


SCHEDULES = (
    Schedule(
        name="每夜系统核查",
        task="supervision.tasks.run_nightly_checks",
        description="每夜运行全部系统核查规则（问题只记录一次，整改后自动关闭）。",
        hour="1",
        minute="30",
    ),
    Schedule(
        name="每日办结期限扫描",
        task="cases.tasks.scan_deadlines",
        description="剩余5个、2个工作日提醒经办人和分管领导；超期案件报县民政局；重算暂定期限。",
        hour="6",
    ),
    Schedule(
        name="每月20日截止提醒",
        task="cases.tasks.send_cutoff_reminders",
        description="每日检查：20日前3个工作日起提醒各审核确认单位（每单位每月一次）。",
        hour="7",
    ),
    Schedule(
        name="25日后清册未报送检查",
        task="disbursement.tasks.flag_missing_rosters",
        description="每日检查：25日（或县局准予的延期）后仍未报送发放清册的单位报县民政局。",
        hour="8",
    ),
    Schedule(
        name="20日生成次月发放清册",
        task="disbursement.tasks.generate_next_month_rosters",
        description="每月20日在确认截止后为各审核确认单位生成次月资金发放清册（重复生成不产生重复行）。",
        hour="18",
        day_of_month="20",
    ),
    Schedule(
        name="每月开启到期复核",
        task="disbursement.tasks.open_due_reviews",
        description="每月1日为到期的在保家庭开启定期复核（同一到期日只开启一次），通知经办人。",
        hour="2",
        day_of_month="1",
    ),
    Schedule(
        name="逾期复核报县民政局",
        task="disbursement.tasks.flag_overdue_reviews",
        description="每日检查：逾期未完成的复核按单位报县民政局监管人员（每单位每月一次）。",
        hour="8",
        minute="30",
    ),
    Schedule(
        name="每月实地抽查抽样",
        task="supervision.tasks.draw_monthly_sample",
        description="每月1日按30%比例抽取上月的实地抽查样本（已抽取的不重复抽取）。",
        hour="3",
        day_of_month="1",
    ),
)


def crontab_fires_on(crontab, day: date) -> bool:
    """True when a celery crontab fires at some time of `day` (day of month AND of week)."""
    weekday = (day.weekday() + 1) % 7  # celery: 0 is Sunday
    return (
        day.day in crontab.day_of_month
        and day.month in crontab.month_of_year
        and weekday in crontab.day_of_week
    )


def accepts_day(task) -> bool:
    """Whether a task takes the `day` keyword run_schedules passes."""
    try:
        parameters = inspect.signature(task.run).parameters
    except (TypeError, ValueError):
        return False
    return "day" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
