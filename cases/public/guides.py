"""Public service guides (办事指南) of the approval units, seed 七(三): conditions, procedure,
materials, time limits and contacts for each kind, with default text until the unit edits it.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import Role, Unit, User
from cases.models import Kind, MaterialRequirement, ServiceGuide
from dengkou_aid.errors import NotAllowed

CONDITIONS = {
    Kind.DIBAO: "持有本县户籍，共同生活的家庭成员月人均收入低于当地城乡低保标准，且家庭财产状况符合本县规定的城乡居民家庭，可以申请城乡低保。",
    Kind.MARGINAL: "不符合城乡低保条件，共同生活的家庭成员月人均收入低于当地城乡低保标准的1.5倍，且家庭财产状况符合本县规定的家庭，可以申请低保边缘家庭认定。",
    Kind.TEKUN: "无劳动能力、无生活来源，且无法定赡养、抚养、扶养义务人或者其法定义务人无履行义务能力的老年人、残疾人以及未满十六周岁的未成年人，可以申请特困人员救助供养。",
}

PROCEDURE = (
    "提出申请→苏木镇、农场公司受理→申请人填写社会救助诚信声明及家庭经济状况核对授权书→"
    "苏木镇、农场公司委托县民政局开展家庭经济状况核对并出具核对报告→入户调查→收入核算→"
    "审核确认公示→审核确认→出具批准决定或不予保障告知书→资金社会化发放→长期公示。"
    "行动不便或无行为能力的，可由所在嘎查村、居委会代为申请。"
)

TIME_LIMIT = (
    "自受理之日起20个工作日内完成审核确认；特殊情况下，可延长10个工作日。"
    "不予保障的，书面告知申请人并说明理由。批准后自次月起发放救助金。"
)

NOTES = "申请人应如实申报家庭人口、收入和财产情况。可以通过国家和地方政务平台查询的证明材料，不再要求申请人重复提供。"


def default_guide(unit: Unit, kind: str) -> ServiceGuide:
    """An unsaved guide with the default text, derived from the seed and the materials checklist."""
    return ServiceGuide(
        unit=unit,
        kind=kind,
        conditions=CONDITIONS[kind],
        procedure=PROCEDURE,
        materials=_materials_text(kind),
        time_limit=TIME_LIMIT,
        contacts=_contacts_text(unit),
        notes=NOTES,
    )


def _materials_text(kind: str) -> str:
    items = list(MaterialRequirement.objects.filter(kind=kind))
    if not items:
        return "社会救助申请书；申请人及家庭成员居民身份证、户口簿；家庭收入及财产情况说明；其他能够证明家庭经济状况的材料。"
    demanded = [i.name for i in items if not i.platform_supplied]
    platform = [i.name for i in items if i.platform_supplied]
    text = "；".join(f"{n}. {name}" for n, name in enumerate(demanded, start=1))
    if platform:
        text += "。以下材料通过政务平台查询，无需申请人提供：" + "、".join(platform)
    return text + "。"


def _contacts_text(unit: Unit) -> str:
    parts = [f"{unit.name}民政办"]
    if unit.address:
        parts.append(f"办公地址：{unit.address}")
    if unit.complaint_phone:
        parts.append(f"咨询及监督投诉电话：{unit.complaint_phone}")
    parts.append("上级监督：磴口县民政局")
    return "；".join(parts) + "。"


def guides_for(unit: Unit) -> list[ServiceGuide]:
    """The unit's guide for each kind: its own text where edited, the default otherwise."""
    saved = {g.kind: g for g in unit.service_guides.all()}
    return [saved.get(kind) or default_guide(unit, kind) for kind in Kind.values]


def guide_for(unit: Unit, kind: str) -> ServiceGuide:
    return unit.service_guides.filter(kind=kind).first() or default_guide(unit, kind)


EDITABLE_FIELDS = ("conditions", "procedure", "materials", "time_limit", "contacts", "notes")


def can_edit_guide(user: User, unit: Unit) -> bool:
    return user.unit_id == unit.pk and user.has_role(
        Role.HANDLER, Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE
    )


def save_guide(*, actor: User, unit: Unit, kind: str, values: dict[str, str]) -> ServiceGuide:
    """Store the unit's own guide text for one kind (handler or leaders of that unit)."""
    if not can_edit_guide(actor, unit):
        raise NotAllowed("办事指南只能由本单位经办人或领导修改。")
    with transaction.atomic():
        guide = unit.service_guides.select_for_update().filter(kind=kind).first()
        guide = guide or default_guide(unit, kind)
        for name in EDITABLE_FIELDS:
            setattr(guide, name, values[name])
        guide.updated_by = actor
        guide.save()
    return guide
