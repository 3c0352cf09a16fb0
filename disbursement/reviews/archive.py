"""The case archive's sections for what happens after approval: each review with its home
visit and its signatures, the village's change reports, and every change of the payment."""

from __future__ import annotations

from cases.documents.archive import ArchiveItem, register_section
from cases.models import Case

from ..models import ChangeReport, EntitlementChange, Review


@register_section("reviews", "定期复核", order=100, only_if_any=True)
def _reviews(case: Case) -> list[ArchiveItem]:
    items = []
    for review in Review.objects.filter(case=case).order_by("opened_on", "id"):
        outcome = review.get_outcome_display() if review.outcome else review.get_state_display()
        items.append(
            ArchiveItem(
                title=f"复核（{review.get_trigger_display()}）",
                when=review.opened_on,
                detail=f"应复核日期{review.due_on}；结果：{outcome}",
                url=f"/reviews/{review.pk}/",
                signed=review.decided_on is not None,
            )
        )
        if review.visited_on:
            names = "、".join(str(i.get("name", "")) for i in review.investigators or [])
            items.append(
                ArchiveItem(
                    title="复核入户调查",
                    when=review.visited_on,
                    detail=f"调查人员：{names}；{review.visit_findings}".rstrip("；"),
                )
            )
        for signature in review.signatures.select_related("unit").order_by("signed_at", "id"):
            items.append(
                ArchiveItem(
                    title=f"复核{signature.get_step_display()}",
                    when=signature.signed_at,
                    detail=f"{signature.signer_name}（{signature.unit.name}）{signature.text}",
                )
            )
    return items


@register_section("change_reports", "家庭情况变化报告", order=105, only_if_any=True)
def _change_reports(case: Case) -> list[ArchiveItem]:
    reports = ChangeReport.objects.filter(household_id=case.household_id).select_related(
        "reported_by"
    )
    return [
        ArchiveItem(
            title=f"变化报告（{r.get_kind_display()}）",
            when=r.reported_on,
            detail=f"{r.details}；报告人：{r.reported_by.full_name or r.reported_by.username}"
            + (f"；处理意见：{r.decision}" if r.decision else ""),
            signed=r.decided_at is not None,
        )
        for r in reports.order_by("reported_on", "id")
    ]


@register_section("adjustments", "待遇调整记录", order=110, only_if_any=True)
def _adjustments(case: Case) -> list[ArchiveItem]:
    changes = EntitlementChange.objects.filter(entitlement__case=case).order_by("created_at", "id")
    return [
        ArchiveItem(
            title=f"待遇{c.get_kind_display()}（{c.get_source_display()}）",
            when=c.created_at,
            detail=f"自{c.effective_month:%Y年%m月}起，{c.old_amount}元调整为{c.new_amount}元；{c.reason}",
        )
        for c in changes
    ]
