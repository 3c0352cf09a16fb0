"""Training pages: sessions and sign-in, the library, a unit's coverage, a person's record."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import not_found
from accounts.models import Role, Unit, User
from dengkou_aid.errors import DomainError

from ..models import Audience, TrainingMaterial
from ..selectors import is_supervisor
from . import selectors, services

LEADERS = (Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE)


def _year(request: HttpRequest) -> int:
    value = request.GET.get("year", "")
    return (
        int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else timezone.localdate().year
    )


def _held_on(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError("日期格式应为YYYY-MM-DD。", field="held_on") from None


def _may_see_unit(user, unit_id: int) -> bool:
    return is_supervisor(user) or (user.unit_id == unit_id and user.has_role(*LEADERS))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not selectors.may_read_library(user):
        raise not_found(request, user, "training", "")
    supervisor = is_supervisor(user)
    error, typed = None, {}
    if request.method == "POST" and supervisor:
        post = request.POST
        typed = {
            "topic": post.get("topic", ""),
            "held_on": post.get("held_on", ""),
            "place": post.get("place", ""),
            "trainer": post.get("trainer", ""),
            "audiences": post.getlist("audiences"),
            "units": post.getlist("units"),
        }
        try:
            session = services.plan_session(
                actor=user,
                topic=typed["topic"],
                held_on=_held_on(typed["held_on"]),
                place=typed["place"],
                trainer=typed["trainer"],
                audiences=typed["audiences"],
                units=Unit.objects.approval_units().filter(
                    pk__in=[u for u in typed["units"] if u.isdigit()]
                ),
                materials=TrainingMaterial.objects.filter(
                    pk__in=[m for m in post.getlist("materials") if m.isdigit()]
                ),
            )
            messages.success(request, f"已安排培训：{session.topic}。")
            return redirect("supervision:training_session", pk=session.pk)
        except DomainError as failure:
            error = failure
    year = _year(request)
    leader_of = user.unit_id if user.unit_id and user.has_role(*LEADERS) else None
    return render(
        request,
        "supervision/training/index.html",
        {
            "sessions": selectors.sessions_visible_to(user)[:200],
            "supervisor": supervisor,
            "year": year,
            "coverages": selectors.coverage_by_unit(year).values() if supervisor else [],
            "coverage": selectors.unit_coverage(user.unit, year) if leader_of else None,
            "units": Unit.objects.approval_units().order_by("code"),
            "audiences": Audience.choices,
            "materials": TrainingMaterial.objects.all(),
            "error": error,
            "typed": typed,
        },
        status=error.status if error else 200,
    )


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    session = selectors.sessions_visible_to(user).filter(pk=pk).first()
    if session is None:
        raise not_found(request, user, "training_session", pk)
    error = None
    if request.method == "POST":
        trainee_id = request.POST.get("trainee", "")
        trainee = User.objects.filter(pk=int(trainee_id)).first() if trainee_id.isdigit() else None
        try:
            if trainee is None:
                raise DomainError("请选择签到人员。", field="trainee")
            services.sign_in(session=session, actor=user, trainee=trainee)
            messages.success(request, f"{trainee.full_name or trainee.username}已签到。")
            return redirect("supervision:training_session", pk=pk)
        except DomainError as failure:
            error = failure
    signed = {a.trainee_id: a for a in session.attendances.select_related("signer").order_by("id")}
    audience = list(selectors.audience_of(session))
    return render(
        request,
        "supervision/training/session.html",
        {
            "session": session,
            "rows": [(person, signed.get(person.pk)) for person in audience],
            "outside": [a for a in signed.values() if a.trainee_id not in {p.pk for p in audience}],
            "supervisor": is_supervisor(user),
            "may_sign_self": user.pk in {p.pk for p in audience} and user.pk not in signed,
            "unsigned": [p for p in audience if p.pk not in signed],
            "held": session.held_on <= timezone.localdate(),
            "error": error,
        },
        status=error.status if error else 200,
    )


@login_required
def library(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not selectors.may_read_library(user):
        raise not_found(request, user, "training_library", "")
    supervisor = is_supervisor(user)
    error, typed = None, {}
    if request.method == "POST" and supervisor:
        post = request.POST
        typed = dict(post.items())
        try:
            material_id = post.get("material", "")
            if material_id.isdigit():
                material = TrainingMaterial.objects.filter(pk=int(material_id)).first()
                if material is None:
                    raise DomainError("未找到该资料。", field="material")
                version = services.add_version(
                    material=material,
                    actor=user,
                    upload=request.FILES.get("file"),
                    note=post.get("note", ""),
                )
                messages.success(request, f"已上传《{material.title}》第{version.number}版。")
            else:
                material = services.add_material(
                    actor=user,
                    title=post.get("title", ""),
                    category=post.get("category", ""),
                    upload=request.FILES.get("file"),
                    note=post.get("note", ""),
                )
                messages.success(request, f"已上传《{material.title}》。")
            return redirect("supervision:training_library")
        except DomainError as failure:
            error = failure
    return render(
        request,
        "supervision/training/library.html",
        {
            "materials": selectors.library(),
            "supervisor": supervisor,
            "categories": TrainingMaterial.Category.choices,
            "error": error,
            "typed": typed,
        },
        status=error.status if error else 200,
    )


@login_required
def coverage(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = Unit.objects.approval_units().filter(pk=unit_id).first()
    if unit is None or not _may_see_unit(request.user, unit_id):
        raise not_found(request, request.user, "training_coverage", unit_id)
    year = _year(request)
    return render(
        request,
        "supervision/training/coverage.html",
        {"coverage": selectors.unit_coverage(unit, year), "year": year},
    )


@login_required
def person_record(request: HttpRequest, user_id: int) -> HttpResponse:
    user = request.user
    person = User.objects.filter(pk=user_id).select_related("unit").first()
    allowed = person is not None and (
        person.pk == user.pk or (person.unit_id and _may_see_unit(user, person.unit_id))
    )
    if not allowed:
        raise not_found(request, user, "training_record", user_id)
    return render(
        request,
        "supervision/training/record.html",
        {"person": person, "attendances": selectors.record_of(person)},
    )
