"""The navigation entries of the case pages, as the user's roles allow."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from accounts.models import Role

CASE_ROLES = (
    Role.HANDLER,
    Role.DIRECT_RESPONSIBLE,
    Role.FIRST_RESPONSIBLE,
    Role.VILLAGE_ASSISTANT,
    Role.COUNTY_SUPERVISOR,
    Role.INVESTIGATOR,
    Role.VERIFICATION_OFFICER,
)


def nav_items(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    if user.has_role(*CASE_ROLES):
        items.append({"url": reverse("cases:list"), "label": "案件"})
    if user.has_role(Role.VILLAGE_ASSISTANT):
        items.append({"url": reverse("cases:new"), "label": "委托申请"})
        items.append({"url": reverse("tablet:shell"), "label": "离线平板"})
    elif user.has_role(Role.HANDLER):
        items.append({"url": reverse("cases:new"), "label": "新申请"})
    if user.has_role(Role.HANDLER):
        items.append({"url": reverse("documents:village_publicity"), "label": "本村公示"})
    if user.has_role(Role.VERIFICATION_OFFICER):
        items.append({"url": reverse("cases:verification"), "label": "核对任务"})
    if user.has_role(Role.COUNTY_SUPERVISOR):
        items.append({"url": reverse("cases:assessment_rules"), "label": "收入核算规则"})
    return {"nav_items": items}
