"""Each role's home page: what that person has to do now, each line a link to the page where
it is done.

Lives in the project package because it reads every layer; each block comes from a
selector of the app that owns it, and costs a fixed number of queries however many cases,
rosters or documents wait.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import Role, User
from cases.deadlines.holidays import administrator_home
from cases.documents.panel import documents_due
from cases.materials import missing_by_case
from cases.models import State
from cases.selectors import case_home, handler_queue, village_returned, waiting_for
from disbursement.selectors import cases_awaiting_account, county_finance_home, rosters_awaiting
from supervision.selectors import supervisor_home

# Each entry: (role, template of its block). Apps add their blocks here as they land.
ROLE_BLOCKS: dict[str, str] = {}
ITEMS = 10

Block = dict
Provider = Callable[[User], Block | None]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    roles = [Role(code) for code in sorted(user.role_codes)]
    context = {"roles": roles, "blocks": [], "no_unit": user.unit_id is None}
    for role in roles:
        for provider in HOME_PROVIDERS.get(role, ()):
            block = provider(user)
            if block is not None:
                context["blocks"].append(block)
    return render(request, "home.html", context)


def _empty(title: str, hint: str) -> Provider:
    def provider(user: User) -> Block:
        return {"title": title, "items": [], "empty": hint}

    return provider


def _case_label(case) -> str:
    return f"{case.number} {case.applicant.name}（{case.village.name}）"


# --- The handler ---------------------------------------------------------------------------


def handler_cases(user: User) -> Block:
    queue = handler_queue(user)
    return {
        "title": "待办案件（按办理环节）",
        "key": "handler-cases",
        "groups": queue["groups"],
        "count": queue["count"],
        "empty": "暂无待办案件。",
        "links": [
            {"url": "/cases/?order=due", "label": "按期限查看全部案件"},
            {"url": "/cases/new/", "label": "录入申请"},
        ],
    }


def handler_documents(user: User) -> Block:
    items, count = documents_due(user)
    return {
        "title": "待出具文书",
        "key": "documents-due",
        "items": items,
        "count": count,
        "empty": "暂无待出具的文书。",
    }


def handler_accounts(user: User) -> Block:
    cases = cases_awaiting_account(user)
    url = reverse("disbursement:roster_list")
    return {
        "title": "已批准、待登记发放账户",
        "key": "accounts-due",
        "items": [
            {"url": url, "label": _case_label(case), "note": f"月救助金额 {case.monthly_amount} 元"}
            for case in cases[:ITEMS]
        ],
        "count": cases.count(),
        "empty": "暂无待登记账户的对象。",
    }


ROSTER_TITLES = {
    Role.HANDLER: ("待签字的发放清册（经办人编制）及待报送的清册", "暂无待签字或报送的清册。"),
    Role.DIRECT_RESPONSIBLE: ("待签字的发放清册（分管领导审核）", "暂无待签字的清册。"),
    Role.FIRST_RESPONSIBLE: ("待签字的发放清册（第一责任人审定）", "暂无待签字的清册。"),
}


def roster_block(role: str) -> Provider:
    title, empty = ROSTER_TITLES[role]

    def provider(user: User) -> Block:
        rosters = list(rosters_awaiting(user, role)[: ITEMS + 1])
        items = [
            {
                "url": reverse("disbursement:roster_detail", args=[roster.pk]),
                "label": f"{roster.month:%Y年%m月}{roster.get_kind_display()}清册",
                "note": ("待报送县民政局" if roster.state == "signed" else "待签字")
                + f" · {roster.line_count}户 {roster.total_amount}元",
            }
            for roster in rosters[:ITEMS]
        ]
        return {
            "title": title,
            "key": f"rosters-{role}",
            "items": items,
            "count": len(items) if len(rosters) <= ITEMS else f"{ITEMS}+",
            "empty": empty,
        }

    return provider


# --- The village assistant -----------------------------------------------------------------


def assistant_materials(user: User) -> Block:
    """The village's open applications that still lack materials (three queries for the rule)."""
    open_cases = list(waiting_for(user, Role.VILLAGE_ASSISTANT)[:40])
    missing = missing_by_case(open_cases) if open_cases else {}
    lacking = [case for case in open_cases if missing.get(case.pk)]
    return {
        "title": "待补充材料的申请",
        "key": "assistant-materials",
        "items": [
            {
                "url": f"/cases/{case.pk}/",
                "label": _case_label(case),
                "note": ("待受理 · " if case.state == State.SUBMITTED else "")
                + "缺："
                + "、".join(missing[case.pk]),
            }
            for case in lacking[:ITEMS]
        ],
        "count": len(lacking),
        "empty": "在办申请的材料均已齐全。",
    }


def assistant_returned(user: User) -> Block:
    cases = village_returned(user)
    return {
        "title": "已退回的申请（不予受理）",
        "key": "assistant-returned",
        "items": [
            {"url": f"/cases/{case.pk}/", "label": _case_label(case), "note": case.refusal_reason}
            for case in cases[:ITEMS]
        ],
        "count": cases.count(),
        "empty": "近期没有退回的申请。",
        "links": [{"url": "/cases/new/", "label": "重新委托申请"}],
    }


HOME_PROVIDERS: dict[str, tuple[Provider, ...]] = {
    Role.HANDLER: (
        handler_cases,
        handler_documents,
        handler_accounts,
        roster_block(Role.HANDLER),
    ),
    Role.DIRECT_RESPONSIBLE: (
        case_home(Role.DIRECT_RESPONSIBLE),
        roster_block(Role.DIRECT_RESPONSIBLE),
    ),
    Role.FIRST_RESPONSIBLE: (
        case_home(Role.FIRST_RESPONSIBLE),
        roster_block(Role.FIRST_RESPONSIBLE),
    ),
    Role.VILLAGE_ASSISTANT: (
        case_home(Role.VILLAGE_ASSISTANT),
        assistant_materials,
        assistant_returned,
    ),
    Role.VERIFICATION_OFFICER: (case_home(Role.VERIFICATION_OFFICER),),
    Role.COUNTY_SUPERVISOR: (supervisor_home,),
    Role.INVESTIGATOR: (_empty("分派给本机构的入户调查", "暂无分派案件。"),),
    Role.COUNTY_FINANCE: (county_finance_home,),
    Role.ADMINISTRATOR: (administrator_home,),
}
