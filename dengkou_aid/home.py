"""Each role's home page: what that person has to do now.

Lives in the project package because it reads every layer; each block comes from a
selector of the app that owns it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from supervision.selectors import supervisor_home

# Each entry: (role, template of its block). Apps add their blocks here as they land.
ROLE_BLOCKS: dict[str, str] = {}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    roles = [Role(code) for code in sorted(user.role_codes)]
    context = {"roles": roles, "blocks": [], "no_unit": user.unit_id is None}
    for role in roles:
        provider = HOME_PROVIDERS.get(role)
        if provider is not None:
            context["blocks"].append(provider(user))
    return render(request, "home.html", context)


def _empty(title: str, hint: str):
    def provider(user) -> dict:
        return {"title": title, "items": [], "empty": hint}

    return provider


HOME_PROVIDERS = {
    Role.HANDLER: _empty("待办案件", "暂无待办案件。"),
    Role.DIRECT_RESPONSIBLE: _empty("待签署审核意见", "暂无待签署事项。"),
    Role.FIRST_RESPONSIBLE: _empty("待签发审核确认决定", "暂无待签发事项。"),
    Role.VILLAGE_ASSISTANT: _empty("本村委托申请与变化报告", "暂无事项。"),
    Role.VERIFICATION_OFFICER: _empty("待出具核对报告", "暂无核对委托。"),
    Role.COUNTY_SUPERVISOR: supervisor_home,
    Role.INVESTIGATOR: _empty("分派给本机构的入户调查", "暂无分派案件。"),
    Role.COUNTY_FINANCE: _empty("资金发放清册", "暂无待汇总清册。"),
    Role.ADMINISTRATOR: _empty("系统管理", "用户、单位、角色请在管理后台维护。"),
}
