"""The yearly acceptance page of one third-party agency."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.access import not_found
from accounts.models import Unit, UnitKind
from dengkou_aid.errors import DomainError

from ..models import AgencyAcceptance
from ..views import supervisor_only
from . import services


@supervisor_only
def acceptance(request: HttpRequest, agency_id: int, year: int) -> HttpResponse:
    agency = Unit.objects.filter(pk=agency_id, kind=UnitKind.AGENCY).first()
    if agency is None or not 2000 <= year <= 2100:
        raise not_found(request, request.user, "agency", agency_id)
    error = None
    if request.method == "POST":
        post = request.POST
        keys = [key for key, _, _ in services.ITEMS]
        try:
            services.accept_agency(
                agency=agency,
                year=year,
                actor=request.user,
                verdicts={key: post.get(f"{key}_verdict", "") for key in keys},
                notes={key: post.get(f"{key}_note", "") for key in keys},
                conclusion=post.get("conclusion", ""),
            )
            messages.success(request, "考核验收已签署。")
            return redirect("supervision:agency_acceptance", agency_id=agency_id, year=year)
        except DomainError as failure:
            error = failure
    done = AgencyAcceptance.objects.filter(agency=agency, year=year).first()
    items = done.items if done else services.acceptance_items(agency=agency, year=year)
    typed = request.POST if error else {}
    for item in items if not done else ():
        item["typed_verdict"] = typed.get(f"{item['key']}_verdict", "")
        item["typed_note"] = typed.get(f"{item['key']}_note", "")
    return render(
        request,
        "supervision/agency_acceptance.html",
        {
            "agency": agency,
            "year": year,
            "items": items,
            "done": done,
            "error": error,
            "typed": typed,
        },
        status=error.status if error else 200,
    )
