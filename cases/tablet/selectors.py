"""What the tablet reads: the assistant's villages and households (masked), checklists, the text
the applicant signs, and a household's version as the device saw it."""

from __future__ import annotations

import base64
import hashlib
import json

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import Role, User, Village

from ..models import Case, Household, Income, Kind, MaterialRequirement, Person

CONSENT_TEXT = (
    "一、社会救助诚信声明\n"
    "本人及家庭成员郑重声明：申请社会救助所提供的家庭人口、收入、财产等情况真实、完整、有效，"
    "无隐瞒、虚报。如有虚假，愿意承担相应法律责任，并退还违规享受的救助资金。"
    "家庭人口、收入、财产等情况发生变化时，将及时主动向苏木镇（农场）报告。\n"
    "二、家庭经济状况核对授权书\n"
    "本人及共同生活的家庭成员同意并授权苏木镇（农场）委托磴口县民政局居民家庭经济状况核对中心，"
    "通过有关部门和金融机构查询、核对本家庭成员的户籍、收入、财产等信息，"
    "核对结果用于社会救助审核确认。"
)


def assistant_villages(user: User):
    """The village an assistant serves today (none when the assignment was taken away)."""
    if not user.has_role(Role.VILLAGE_ASSISTANT) or user.village_id is None:
        return Village.objects.none()
    return Village.objects.filter(pk=user.village_id, is_active=True)


def households_in(villages) -> list[Household]:
    return list(_with_snapshot_facts(Household.objects.filter(village__in=villages)))


def fresh_household(pk: int) -> Household:
    """The household with what its snapshot reads, read again from the database."""
    return _with_snapshot_facts(Household.objects.filter(pk=pk)).get()


def _with_snapshot_facts(households):
    members = Prefetch(
        "members",
        queryset=Person.objects.active()
        .order_by("id")
        .prefetch_related(Prefetch("incomes", queryset=Income.objects.order_by("id"))),
    )
    cases = Prefetch("cases", queryset=Case.objects.order_by("id"))
    return households.select_related("village").prefetch_related(members, cases).order_by("id")


def household_snapshot(household: Household) -> list[list[str]]:
    """The household as the assistant reads it: label and value pairs, masked IDs only."""
    rows = [
        ["嘎查村/社区", household.village.name],
        ["居住地址", household.address or "（未填写）"],
    ]
    # Members by their place in the household: a renamed member is one changed row.
    for number, person in enumerate(household.members.all(), start=1):
        incomes = "；".join(
            f"{i.get_kind_display()} {i.monthly_amount}元/月" for i in person.incomes.all()
        )
        rows.append(
            [
                f"家庭成员{number}",
                f"{person.name}（{person.get_relation_display()}），{person.masked_id}，"
                f"{incomes or '无申报收入'}",
            ]
        )
    for case in household.cases.all():
        rows.append(
            [f"案件 {case.number}", f"{case.get_kind_display()}，{case.get_state_display()}"]
        )
    return rows


def household_version(household: Household) -> str:
    """A digest of what the tablet shows of the household: it changes when any of it changes."""
    raw = json.dumps(household_snapshot(household), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def reference_data(user: User) -> dict:
    """Everything the tablet needs offline for this assistant, with ID numbers masked."""
    villages = assistant_villages(user)
    households = households_in(villages)
    return {
        "user": {"name": user.full_name or user.username},
        "villages": [{"id": v.pk, "name": v.name} for v in villages],
        "households": [
            {
                "id": h.pk,
                "village": h.village_id,
                "label": str(h),
                "version": household_version(h),
                "snapshot": household_snapshot(h),
                "members": [
                    {"id": p.pk, "name": p.name, "masked_id": p.masked_id} for p in h.members.all()
                ],
            }
            for h in households
        ],
        "kinds": [{"value": value, "label": label} for value, label in Kind.choices],
        "materials": [
            {"kind": m.kind, "name": m.name, "required": m.required}
            for m in MaterialRequirement.objects.order_by("kind", "order", "id")
        ],
        "consent_text": CONSENT_TEXT,
    }


def glass_signatures_for(case: Case) -> list[dict]:
    """The case's signatures drawn on the tablet, for the signed consent form (image inline)."""
    from .models import GlassSignature

    return [
        {
            "name": s.person_name,
            "text": s.document_text,
            "image": "data:image/png;base64," + base64.b64encode(bytes(s.image)).decode(),
            "image_hash": s.image_hash,
            "text_hash": s.text_hash,
            "signed_at": _cn_time(s.signed_at),
            "witness": s.signer_name,
            "device": s.device,
        }
        for s in GlassSignature.objects.filter(case=case).order_by("id")
    ]


def _cn_time(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
