"""Training (五(二)1(5), 七(四)): the county's policy and materials library, the sessions it
plans for township staff and village assistants, and their signed attendance."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Unit, User
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.uploads import UploadRejected, check_upload

from ..models import (
    Attendance,
    Audience,
    TrainingMaterial,
    TrainingMaterialVersion,
    TrainingSession,
)
from ..notices import notify_unit, require_supervisor
from . import selectors


def _checked(upload: Any):
    if upload is None:
        raise DomainError("请选择要上传的文件。", field="file")
    try:
        return check_upload(upload, allowed=("pdf", "jpg", "png"))
    except UploadRejected as error:
        raise DomainError(f"资料须为PDF文件或图片：{error}", field="file") from None


def add_material(
    *, actor: User, title: str, category: str, upload: Any, note: str = ""
) -> TrainingMaterial:
    """Put a policy or a training material in the library, as its first version."""
    require_supervisor(actor)
    if not title.strip():
        raise DomainError("请填写资料标题。", field="title")
    if category not in TrainingMaterial.Category.values:
        raise DomainError("请选择资料类别。", field="category")
    checked = _checked(upload)
    with transaction.atomic():
        material = TrainingMaterial.objects.create(
            title=title.strip(), category=category, created_by=actor
        )
        _version(material, 1, checked, actor, note)
    return material


def add_version(
    *, material: TrainingMaterial, actor: User, upload: Any, note: str = ""
) -> TrainingMaterialVersion:
    """A revised file for a library document; earlier versions are kept."""
    require_supervisor(actor)
    checked = _checked(upload)
    if not note.strip():
        raise DomainError("请填写修订说明。", field="note")
    with transaction.atomic():
        # Lock the material: two uploads at once must not take the same version number.
        material = TrainingMaterial.objects.select_for_update().get(pk=material.pk)
        last = material.versions.order_by("-number").values_list("number", flat=True).first()
        return _version(material, (last or 0) + 1, checked, actor, note)


def _version(material, number, checked, actor, note) -> TrainingMaterialVersion:
    return TrainingMaterialVersion.objects.create(
        material=material,
        number=number,
        note=note.strip()[:200],
        file=checked.content,
        original_name=checked.original_name,
        mime=checked.mime,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
    )


def plan_session(
    *,
    actor: User,
    topic: str,
    held_on: date | None,
    place: str,
    trainer: str,
    audiences: Iterable[str],
    units: Iterable[Unit],
    materials: Iterable[TrainingMaterial] = (),
) -> TrainingSession:
    """Plan a session for the chosen units' township staff and/or village assistants."""
    require_supervisor(actor)
    audiences = [a for a in Audience.values if a in set(audiences)]
    units = [u for u in units if u.is_approval_unit]
    for value, field, message in (
        (topic.strip(), "topic", "请填写培训主题。"),
        (held_on, "held_on", "请填写培训日期。"),
        (place.strip(), "place", "请填写培训地点。"),
        (trainer.strip(), "trainer", "请填写授课人。"),
        (audiences, "audiences", "请选择培训对象（苏木镇工作人员和/或嘎查村协理员）。"),
        (units, "units", "请选择参训单位。"),
    ):
        if not value:
            raise DomainError(message, field=field)
    with transaction.atomic():
        session = TrainingSession.objects.create(
            topic=topic.strip(),
            held_on=held_on,
            place=place.strip(),
            trainer=trainer.strip(),
            audiences=audiences,
            planned_by=actor,
        )
        session.units.set(units)
        session.materials.set(list(materials))
        for unit in units:
            transaction.on_commit(
                lambda u=unit: notify_unit(
                    u.pk,
                    roles=[r for a in audiences for r in selectors.AUDIENCE_ROLES[a]],
                    key=f"training:{session.pk}",
                    title=f"培训通知：{session.topic}，{held_on:%Y年%m月%d日}，{session.place}",
                    url=f"/supervision/training/{session.pk}/",
                )
            )
    return session


def sign_in(*, session: TrainingSession, actor: User, trainee: User) -> Attendance:
    """Record a trainee's attendance: signed by the trainee (on a tablet) or by the organiser."""
    if actor.pk == trainee.pk:
        method = Attendance.Method.SELF
    else:
        require_supervisor(actor)
        method = Attendance.Method.ORGANISER
    if session.held_on > timezone.localdate():
        raise DomainError("培训尚未举行，不能签到。", field="trainee")
    if not selectors.in_audience(session, trainee):
        name = trainee.full_name or trainee.username
        raise DomainError(f"{name}不在本次培训的培训对象范围内，不能签到。", field="trainee")
    if trainee.unit_id is None:
        raise NotAllowed("参训人员未归属单位。")
    if Attendance.objects.filter(session=session, trainee=trainee).exists():
        raise Conflict(f"{trainee.full_name or trainee.username}已签到。", field="trainee")
    try:
        with transaction.atomic():
            return Attendance.create_signed(
                signer=actor,
                role=selectors.signing_role(actor),
                over={"session": session.pk, "trainee": trainee.pk, "method": method},
                session=session,
                trainee=trainee,
                trainee_unit=trainee.unit,
                method=method,
            )
    except IntegrityError:
        # Two sign-ins at once (the trainee and the organiser): the second loses.
        raise Conflict(
            f"{trainee.full_name or trainee.username}已签到。", field="trainee"
        ) from None
