"""Public pages, no sign-in (seed 七(三)): each approval unit's service guide and the standing
publicity list of households in payment. Only what publicity may show; no search by ID number.
"""

from __future__ import annotations

import functools
import re

from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from accounts.models import Unit
from cases.documents.services import ADULT_AGE
from cases.models import LIVE_PAYMENT_STATES, Case, Kind
from cases.payments import amounts_for_cases
from dengkou_aid.lib.masking import mask_name

from .guides import guides_for

PUBLIC_MAX_AGE = 300  # seconds; proxies and browsers may cache the public pages
UNIT_CODE = re.compile(r"[0-9A-Za-z]{1,12}")
ID_VALUE = re.compile(r"[0-9]{1,10}")
MAX_ID = 2**63 - 1


def _public(view):
    """No sign-in, GET only, 60 requests a minute per address, cacheable for five minutes."""
    view = cache_control(public=True, max_age=PUBLIC_MAX_AGE)(view)

    @functools.wraps(view)
    def unless_limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # 429 with a reason, not the library's bare 403: the visitor did nothing forbidden.
        if getattr(request, "limited", False):
            response = HttpResponse(
                "访问过于频繁，请一分钟后再试。",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = "60"
            return response
        try:
            return view(request, *args, **kwargs)
        except MalformedParameter as error:
            return _bad_request(str(error))

    return require_GET(ratelimit(key="ip", rate="60/m", block=False)(unless_limited))


class MalformedParameter(Exception):
    """A public page's parameter that is not of the shape it must have: answered 400."""


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _unit(code: str) -> Unit:
    if not UNIT_CODE.fullmatch(code):
        raise MalformedParameter("单位代码格式不正确。")
    unit = Unit.objects.approval_units().filter(code=code, is_active=True).first()
    if unit is None:
        raise Http404("未找到该单位。")
    return unit


@_public
def index(request: HttpRequest) -> HttpResponse:
    units = Unit.objects.approval_units().filter(is_active=True)
    return render(request, "public/index.html", {"units": units})


@_public
def guide(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(code)
    return render(request, "public/guide.html", {"unit": unit, "guides": guides_for(unit)})


def standing_list(unit: Unit, village_id: int | None = None) -> list[dict]:
    """Households in payment, as publicity may show them; minors supported as tekun left out."""
    today = timezone.localdate()
    cases = (
        Case.objects.filter(unit=unit, state__in=LIVE_PAYMENT_STATES)
        .select_related("applicant", "village")
        .annotate(
            size=Count("household__members", filter=Q(household__members__left_on__isnull=True))
        )
        .order_by("village__code", "kind", "id")
    )
    if village_id is not None:
        cases = cases.filter(village_id=village_id)
    cases = [
        case
        for case in cases
        if not (case.kind == Kind.TEKUN and case.applicant.age_on(today) < ADULT_AGE)
    ]
    paid = amounts_for_cases(case.pk for case in cases)
    rows = []
    for case in cases:
        shown = paid.get(case.pk)
        rows.append(
            {
                "name": mask_name(case.applicant.name),
                "village": case.village.name,
                "household_size": case.size,
                "kind": case.get_kind_display(),
                "amount": shown.amount if shown else case.monthly_amount,
                "ahead": shown.ahead if shown else "",
            }
        )
    return rows


@_public
def publicity(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(code)
    villages = unit.villages.filter(is_active=True)
    village = None
    if "village" in request.GET and request.GET["village"] != "":
        village = villages.filter(pk=_id(request.GET["village"])).first()
        if village is None:
            raise Http404("未找到该嘎查村/社区。")
    context = {
        "unit": unit,
        "villages": villages,
        "village": village,
        "rows": standing_list(unit, village.pk if village else None),
    }
    return render(request, "public/publicity.html", context)


def _id(value: str) -> int:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not ID_VALUE.fullmatch(value) or int(value) > MAX_ID:
        raise MalformedParameter("嘎查村/社区参数格式不正确，应为数字编号。")
    return int(value)
