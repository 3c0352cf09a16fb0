"""Demo training for a newcomer: one policy in the library and a session next week for the
demo units' staff and village assistants (once; left alone when any session exists)."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role, User
from dengkou_aid.lib.pdf import html_to_pdf

from .models import Audience, TrainingSession
from .training.services import add_material, plan_session

POLICY_HTML = (
    '<!DOCTYPE html><html lang="zh-CN"><body><h1>社会救助审核确认工作要点（演示资料）</h1>'
    "<p>受理之日起20个工作日内办结；特殊情况经批准可延长10个工作日。入户调查不少于2人。"
    "审核确认公示7天。谁签字，谁负责。</p></body></html>"
)


def seed(context: dict) -> None:
    supervisor = User.objects.filter(role_grants__role=Role.COUNTY_SUPERVISOR).first()
    units = context.get("units", [])
    if supervisor is None or not units or TrainingSession.objects.exists():
        return
    policy = add_material(
        actor=supervisor,
        title="社会救助审核确认工作要点（演示资料）",
        category="policy",
        upload=SimpleUploadedFile("工作要点.pdf", html_to_pdf(POLICY_HTML)),
    )
    plan_session(
        actor=supervisor,
        topic="审核确认权限下放业务培训（演示）",
        held_on=timezone.localdate() + timedelta(days=7),
        place="磴口县民政局会议室",
        trainer="县民政局社会救助股",
        audiences=[Audience.STAFF, Audience.ASSISTANTS],
        units=units,
        materials=[policy],
    )
