"""The township's side of a complaint: the complaints handed to it, and its answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.access import not_found
from dengkou_aid.errors import DomainError

from ..models import Complaint
from . import services


def handed_to_user(user) -> QuerySet[Complaint]:
    """Complaints the county handed to the user's unit, for its handlers and leaders only."""
    if not user.unit_id or not user.has_role(*services.TOWNSHIP_ROLES):
        return Complaint.objects.none()
    return Complaint.objects.filter(handed_to_id=user.unit_id).select_related("case")


@login_required
def township_list(request: HttpRequest) -> HttpResponse:
    complaints = handed_to_user(request.user)
    if not request.user.has_role(*services.TOWNSHIP_ROLES) or not request.user.unit_id:
        raise not_found(request, request.user, "township_complaints", "")
    return render(
        request,
        "supervision/township_complaint_list.html",
        {"complaints": complaints.order_by("township_due_on", "id")},
    )


@login_required
def township_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = handed_to_user(request.user).filter(pk=pk).first()
    if complaint is None:
        raise not_found(request, request.user, "complaint", pk)
    error = None
    if request.method == "POST":
        choice = request.POST.get("substantiated")
        try:
            services.answer_as_township(
                complaint=complaint,
                actor=request.user,
                answer=request.POST.get("answer", ""),
                substantiated={"yes": True, "no": False}.get(choice or ""),
            )
            messages.success(request, "办理情况已反馈县民政局。")
            return redirect("supervision:township_complaint", pk=pk)
        except DomainError as failure:
            error = failure
    return render(
        request,
        "supervision/township_complaint_detail.html",
        {
            "complaint": complaint,
            "complainant": services.masked_complainant(complaint),
            "error": error,
            "typed": request.POST if error else {},
        },
        status=error.status if error else 200,
    )
