"""The main navigation, composed across the apps by role (the project package wires the layers)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from accounts.models import Role
from cases.context_processors import nav_items as case_items

UNIT = (Role.HANDLER, Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE)
LEADERS = (Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE, Role.COUNTY_SUPERVISOR)

# (url name, label, roles that see it), in menu order after the case entries.
ENTRIES = [
    ("reviews:list", "复核", (*UNIT, Role.VILLAGE_ASSISTANT, Role.COUNTY_SUPERVISOR)),
    ("reviews:reports", "变化报告", (*UNIT, Role.VILLAGE_ASSISTANT)),
    ("disbursement:roster_list", "发放清册", (*UNIT, Role.COUNTY_FINANCE, Role.COUNTY_SUPERVISOR)),
    ("documents:ledgers", "台账", (*UNIT, Role.COUNTY_SUPERVISOR)),
    ("documents:handovers", "档案移交", UNIT),
    ("imports:index", "数据导入", (Role.HANDLER, Role.ADMINISTRATOR, Role.COUNTY_SUPERVISOR)),
    ("deadlines:list", "期限监督", (Role.COUNTY_SUPERVISOR,)),
    ("supervision:dashboard", "监督", LEADERS),
    ("tablet:shell", "离线平板", (Role.COUNTY_SUPERVISOR,)),
    ("supervision:training", "培训", (*UNIT, Role.VILLAGE_ASSISTANT, Role.COUNTY_SUPERVISOR)),
    ("accounts:audit_log", "审计日志", (Role.AUDIT_READER,)),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = list(case_items(request).get("nav_items", []))
    items += [
        {"url": reverse(name), "label": label}
        for name, label, roles in ENTRIES
        if user.has_role(*roles)
    ]
    return {"nav_items": items}
