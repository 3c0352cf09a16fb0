"""The county supervisor's field spot-check (实地抽查) on the offline tablet.

While online the app reads the open samples with the facts the online checklist shows (ID
numbers masked) and keeps them sealed on the device; a checklist filled offline is a draft that
comes here on sync under its own key (cases/tablet's receipts: a retry records nothing twice).
A sample checked on the server meanwhile comes back as a conflict with what the server holds.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import User
from cases.tablet.models import DraftKind, TabletSync
from cases.tablet.services import Applied, DraftConflict, parse_key, receive_draft
from cases.tablet.views import SIGN_IN_AGAIN, draft_endpoint
from dengkou_aid.errors import DomainError

from . import selectors, services
from .models import CheckItem, SpotCheckSample
from .selectors import is_supervisor

NOT_A_SUPERVISOR = "平板实地抽查仅供县级监督核查人员使用。"


def supervisor_json(view: Callable) -> Callable:
    """A county supervisor's JSON endpoint: 401 when signed out, 403 for other roles."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"message": SIGN_IN_AGAIN}, status=401)
        if not is_supervisor(request.user):
            return JsonResponse({"message": NOT_A_SUPERVISOR}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


# --- reference data ------------------------------------------------------------------------


def open_samples():
    return (
        SpotCheckSample.objects.filter(checked_at__isnull=True)
        .select_related("case", "case__village", "unit", "draw")
        .order_by("draw_id", "unit_id", "kind", "case_id")
    )


def _plain(value: Any) -> Any:
    """The facts as JSON: amounts as their printed text, pairs as lists."""
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value}"
    return value


def sample_entry(sample: SpotCheckSample) -> dict[str, Any]:
    case = sample.case
    return {
        "id": sample.pk,
        "label": f"{case.number} {case.village.name}（{case.get_kind_display()}）",
        "draw": str(sample.draw),
        "case": case.number,
        "facts": _plain(selectors.sample_facts(sample)),
    }


def reference_data(user: User) -> dict[str, Any]:
    """What the supervisor's tablet keeps offline: the open samples and the checklist items."""
    return {
        "user": {"name": user.full_name or user.username},
        "role": "supervisor",
        "villages": [],
        "households": [],
        "kinds": [],
        "materials": [],
        "consent_text": "",
        "check_items": [{"value": v, "label": label} for v, label in CheckItem.choices],
        "spot_samples": [sample_entry(s) for s in open_samples()],
    }


@require_GET
@supervisor_json
def reference(request: HttpRequest) -> JsonResponse:
    return JsonResponse(reference_data(request.user))


# --- the checklist draft -------------------------------------------------------------------


def _checked_rows(sample: SpotCheckSample) -> list[list[str]]:
    rows = [
        [label, f"{state}{'：' + note if note else ''}"]
        for label, state, note in selectors.result_rows(sample)
    ]
    when = timezone.localtime(sample.checked_at)
    who = sample.checked_by.full_name or sample.checked_by.username if sample.checked_by else ""
    return [*rows, ["核查人", who], ["核查时间", f"{when:%Y-%m-%d %H:%M}"]]


def parse_results(raw: Any) -> dict[str, dict[str, Any]]:
    """The checklist as the device sent it: only known items, ok a yes/no, note a text."""
    if not isinstance(raw, dict):
        raise DomainError("核查结果缺失，请在平板上重新填写。", field="results")
    results = {}
    for item in CheckItem.values:
        entry = raw.get(item)
        if isinstance(entry, dict) and isinstance(entry.get("ok"), bool):
            results[item] = {"ok": entry["ok"], "note": str(entry.get("note") or "")[:2000]}
    return results


def spot_check_applier(actor: User, payload: dict) -> Callable[[TabletSync], Applied]:
    def apply(receipt: TabletSync) -> Applied:
        sample = (
            SpotCheckSample.objects.select_related("case", "checked_by")
            .filter(pk=_as_int(payload.get("sample")))
            .first()
        )
        if sample is None:
            raise DomainError("该抽查案件已不存在，草稿未提交。", field="sample")
        if sample.checked_at is not None:
            raise DraftConflict(
                f"案件 {sample.case.number} 在您离线期间已在服务器上录入核查结果，草稿未提交。"
                "请对照服务器上的结果，如需更正请在系统中处理，然后放弃该草稿。",
                current=_checked_rows(sample),
                version="",
            )
        results = parse_results(payload.get("results"))
        sample = services.record_spot_check(sample=sample, actor=actor, results=results)
        return Applied(
            case=sample.case,
            object_id=sample.pk,
            result={"label": f"核查结果已保存，案件编号 {sample.case.number}"},
        )

    return apply


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def receive_spot_check(*, actor: User, body: dict) -> TabletSync:
    """One spot-check checklist from the tablet, recorded once per key."""
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise DomainError("草稿内容缺失。", field="payload")
    return receive_draft(
        actor=actor,
        key=parse_key(body.get("key")),
        kind=DraftKind.SPOT_CHECK,
        payload=payload,
        apply=spot_check_applier(actor, payload),
        device=str(body.get("device", "")),
        device_made_at=str(body.get("made_at", "")),
    )


spot_checks = draft_endpoint(receive_spot_check, guard=supervisor_json)
