"""The county's page of overdue and soon-due cases across every unit."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Role, Unit
from cases.models import Case
from cases.permissions import cases_visible_to

from .services import BUCKETS, filter_deadline, order_by_deadline, with_deadline_badges


@login_required
def deadline_list(request: HttpRequest) -> HttpResponse:
    """Overdue cases (default) or those due within 2 or 5 working days, for county supervisors."""
    if not request.user.has_role(Role.COUNTY_SUPERVISOR):
        raise PermissionDenied("仅县民政局监管人员可查看全县期限监督。")
    today = timezone.localdate()
    bucket = request.GET.get("bucket") if request.GET.get("bucket") in BUCKETS else "overdue"
    cases = filter_deadline(cases_visible_to(request.user), bucket, today=today)
    unit_id = request.GET.get("unit", "")
    if unit_id.isdigit():
        cases = cases.filter(unit_id=int(unit_id))
    cases = order_by_deadline(cases.select_related("unit", "village", "handler"))
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    context = {
        "rows": with_deadline_badges(page.object_list, today=today),
        "page": page,
        "bucket": bucket,
        "buckets": BUCKETS,
        "units": Unit.objects.approval_units().order_by("code"),
        "unit_id": unit_id,
        "today": today,
        "overdue_total": filter_deadline(Case.objects.all(), "overdue", today=today).count(),
    }
    return render(request, "cases/deadlines.html", context)
