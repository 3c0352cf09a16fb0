"""Each role's home page: what that person has to do now.

Lives in the project package because it reads every layer; each block comes from a
selector of the app that owns it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from cases.deadlines.holidays import administrator_home
from cases.selectors import case_home
from disbursement.roster_review import signer_home
from disbursement.selectors import county_finance_home
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
    context["blocks"].extend(_roster_signing_blocks(user))
    return render(request, "home.html", context)


def _roster_signing_blocks(user) -> list[dict]:
    """The rosters waiting for this user's signature, whatever other blocks their roles have."""
    block = signer_home(user)
    return [block] if block is not None else []


def _empty(title: str, hint: str):
    def provider(user) -> dict:
        return {"title": title, "items": [], "empty": hint}

    return provider


HOME_PROVIDERS = {
    Role.HANDLER: case_home(Role.HANDLER),
    Role.DIRECT_RESPONSIBLE: case_home(Role.DIRECT_RESPONSIBLE),
    Role.FIRST_RESPONSIBLE: case_home(Role.FIRST_RESPONSIBLE),
    Role.VILLAGE_ASSISTANT: case_home(Role.VILLAGE_ASSISTANT),
    Role.VERIFICATION_OFFICER: case_home(Role.VERIFICATION_OFFICER),
    Role.COUNTY_SUPERVISOR: supervisor_home,
    Role.INVESTIGATOR: _empty("分派给本机构的入户调查", "暂无分派案件。"),
    Role.COUNTY_FINANCE: county_finance_home,
    Role.ADMINISTRATOR: administrator_home,
}
