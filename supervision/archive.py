"""The case archive's section for the county's revocation of a decision and its document."""

from __future__ import annotations

from cases.documents.archive import ArchiveItem, register_section
from cases.models import Case

from .models import Revocation


@register_section("revocations", "撤销审核确认决定", order=115, only_if_any=True)
def _revocations(case: Case) -> list[ArchiveItem]:
    items = []
    for revocation in Revocation.objects.filter(case=case).select_related("revoked_by"):
        decision = getattr(revocation, "decision", None)
        items.append(
            ArchiveItem(
                title=f"撤销决定书 {decision.number}" if decision else "撤销审核确认决定",
                when=revocation.revoked_at,
                detail=f"{revocation.reason}；自{revocation.stop_from:%Y年%m月}起停发",
                url=f"/files/revocation/{decision.pk}/" if decision else "",
                pdf=(lambda d=decision: d.file.open("rb").read()) if decision else None,
            )
        )
    return items
