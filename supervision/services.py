"""The county's supervision actions. Each is a keyword-only function that checks its rule,
writes its records in one transaction and queues notifications after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, User
from accounts.notify import notify, staff_with_role
from cases.events import locked_case, record_event, require_transition, save_transition, sign
from cases.models import Case, SignatureStep
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.queries import no_jit
from dengkou_aid.lib.uploads import UploadRejected, check_upload, display_name

from . import checks, sampling
from .bulletins.services import issue_bulletins  # noqa: F401 - the services' one name
from .complaints.services import answer_complaint  # noqa: F401
from .models import (
    CheckItem,
    Complaint,
    Finding,
    Rectification,
    RectificationAttachment,
    Revocation,
    Rule,
    SpotCheckDraw,
    SpotCheckPhoto,
    SpotCheckSample,
)
from .notices import notify_unit, require_supervisor
from .revocations import issue_revocation_decision

CHUNK = 1000
LEADER_ROLES = (Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE)
RECTIFIERS = (Role.HANDLER, *LEADER_ROLES)


_require_supervisor = require_supervisor


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- System checks -------------------------------------------------------------------------


def run_system_checks(
    *, cases: QuerySet[Case] | None = None, rules: Iterable[str] | None = None
) -> dict[str, dict[str, int]]:
    """Raise a finding once per (rule, case) that fires; close the open ones that no longer fire."""
    cases = cases if cases is not None else Case.objects.all()
    whole_county = cases.query.where is None or not cases.query.where
    summary = {}
    with no_jit():
        for rule in rules or checks.RULES:
            hits = {hit.case_id: hit for hit in checks.RULES[rule](cases)}
            summary[rule] = _apply_hits(rule, hits, cases=None if whole_county else cases)
    return summary


def _apply_hits(
    rule: str, hits: dict[int, checks.Hit], *, cases: QuerySet[Case] | None
) -> dict[str, int]:
    now = timezone.now()
    open_findings = Finding.objects.filter(rule=rule, state=Finding.State.OPEN)
    if cases is not None:
        open_findings = open_findings.filter(case__in=cases)
    already = dict(open_findings.values_list("case_id", "id"))
    new = [
        Finding(
            rule=rule,
            case_id=hit.case_id,
            unit_id=hit.unit_id,
            evidence=hit.evidence,
            first_seen=now,
            last_seen=now,
        )
        for case_id, hit in hits.items()
        if case_id not in already
    ]
    fixed = [finding_id for case_id, finding_id in already.items() if case_id not in hits]
    seen = [finding_id for case_id, finding_id in already.items() if case_id in hits]
    with transaction.atomic():
        Finding.objects.bulk_create(new, batch_size=5000)
        for ids in _chunks(fixed):
            Finding.objects.filter(id__in=ids).update(
                state=Finding.State.CLOSED, closed_at=now, close_note="系统核查未再发现该问题"
            )
        for ids in _chunks(seen):
            Finding.objects.filter(id__in=ids).update(last_seen=now)
    return {"raised": len(new), "closed": len(fixed), "open": len(hits)}


# --- Spot checks ---------------------------------------------------------------------------


def draw_spot_check_sample(
    *,
    period_start: date,
    period_end: date,
    actor: User | None,
    seed: int | None = None,
    redraw_reason: str = "",
) -> SpotCheckDraw:
    """Draw ≥30% of each unit's decided cases per kind; a period is drawn once unless a
    county supervisor records why it must be redrawn (the first draw is kept)."""
    if period_end < period_start:
        raise DomainError("抽查期间的结束日期不能早于开始日期。", field="period_end")
    first = SpotCheckDraw.objects.filter(
        period_start=period_start, period_end=period_end, redraw_of__isnull=True
    ).first()
    if first is not None:
        _refuse_silent_redraw(actor, redraw_reason)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    groups = sampling.strata(period_start, period_end)
    drawn = sampling.draw_ids(groups, seed)
    with transaction.atomic():
        draw = SpotCheckDraw.objects.create(
            period_start=period_start,
            period_end=period_end,
            seed=seed,
            drawn_by=actor,
            method=sampling.METHOD,
            parameters={
                "share": str(sampling.SHARE),
                "strata": {
                    f"{u}:{k}": [len(groups[(u, k)]), len(ids)] for (u, k), ids in drawn.items()
                },
                "population": sum(len(ids) for ids in groups.values()),
            },
            redraw_of=first,
            redraw_reason=redraw_reason.strip() if first else "",
        )
        _insert_samples(draw, drawn, groups)
    return draw


def _insert_samples(
    draw: SpotCheckDraw,
    drawn: dict[tuple[int, str], list[int]],
    groups: dict[tuple[int, str], list[int]],
) -> None:
    """The drawn cases as sample rows: one INSERT from arrays (a month's tens of thousands of
    rows in well under a second, where building model objects takes seconds)."""
    rows = [
        (case_id, unit_id, kind, len(groups[(unit_id, kind)]))
        for (unit_id, kind), ids in drawn.items()
        for case_id in ids
    ]
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[], [], [], []]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SpotCheckSample._meta.db_table} "
            "(draw_id, case_id, unit_id, kind, stratum_size, results) "
            "SELECT %s, c, u, k, n, '{}'::jsonb "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::integer[]) AS t(c, u, k, n)",
            [draw.pk, *columns],
        )


def _refuse_silent_redraw(actor: User | None, reason: str) -> None:
    if not reason.strip():
        raise Conflict("本期已抽样，不能重复抽取；如确需重抽，须由县民政局监管人员说明理由。")
    if actor is None:
        raise NotAllowed("重新抽样须由县民政局监管人员办理。")
    _require_supervisor(actor)


def previous_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def record_spot_check(
    *,
    sample: SpotCheckSample,
    actor: User,
    results: dict[str, dict[str, Any]],
    photos: Iterable[Any] = (),
) -> SpotCheckSample:
    """Record a checker's checklist for one sampled case; any problem becomes a finding."""
    _require_supervisor(actor)
    missing = [item.label for item in CheckItem if item not in results]
    if missing:
        raise DomainError(f"请填写以下核查项目：{'、'.join(missing)}。", field="results")
    for item, result in results.items():
        if not result.get("ok") and not (result.get("note") or "").strip():
            raise DomainError(f"“{CheckItem(item).label}”有问题的，须说明问题。", field=item)
    checked = []
    for photo in photos:
        try:
            checked.append(check_upload(photo, allowed=("jpg", "png")))
        except UploadRejected as error:
            raise DomainError(str(error), field="photos") from None
    with transaction.atomic():
        sample = SpotCheckSample.objects.select_for_update().get(pk=sample.pk)
        sample.results = {
            item: {"ok": bool(r.get("ok")), "note": (r.get("note") or "").strip()}
            for item, r in results.items()
        }
        sample.checked_by = actor
        sample.checked_at = timezone.now()
        sample.save(update_fields=["results", "checked_by", "checked_at"])
        for photo in checked:
            SpotCheckPhoto.objects.create(
                sample=sample,
                file=photo.content,
                mime=photo.mime,
                size=photo.size,
                sha256=photo.sha256,
                uploaded_by=actor,
            )
        _spot_check_finding(sample)
    return sample


def _spot_check_finding(sample: SpotCheckSample) -> None:
    problems = {item: result["note"] for item, result in sample.results.items() if not result["ok"]}
    finding = Finding.objects.filter(
        rule=Rule.SPOT_CHECK, case_id=sample.case_id, state=Finding.State.OPEN
    ).first()
    evidence = {"sample": sample.pk, "draw": sample.draw_id, "problems": problems}
    if problems and finding is None:
        Finding.objects.create(
            rule=Rule.SPOT_CHECK, case_id=sample.case_id, unit_id=sample.unit_id, evidence=evidence
        )
    elif problems:
        finding.evidence, finding.last_seen = evidence, timezone.now()
        finding.save(update_fields=["evidence", "last_seen"])


# --- Rectification ---------------------------------------------------------------------------


def order_rectification(
    *, finding: Finding, actor: User, instruction: str, due_on: date
) -> Rectification:
    """Order the finding's unit to rectify by a date (限期整改) and tell its handlers and leaders."""
    _require_supervisor(actor)
    if finding.state != Finding.State.OPEN:
        raise Conflict("该问题已关闭，无需整改。")
    if not instruction.strip():
        raise DomainError("请填写整改要求。", field="instruction")
    if due_on < timezone.localdate():
        raise DomainError("整改期限不能早于今天。", field="due_on")
    if finding.rectifications.exclude(state=Rectification.State.ACCEPTED).exists():
        raise Conflict("该问题已有未验收的整改要求。")
    rectification = Rectification.objects.create(
        finding=finding,
        unit_id=finding.unit_id,
        instruction=instruction.strip(),
        due_on=due_on,
        ordered_by=actor,
    )
    _notify_unit(
        finding.unit_id,
        roles=RECTIFIERS,
        key=f"rectification:{rectification.pk}",
        title=f"限期整改通知：{finding.get_rule_display()}，请于{due_on}前反馈",
        url=f"/supervision/findings/{finding.pk}/",
    )
    return rectification


def answer_rectification(
    *, rectification: Rectification, actor: User, answer: str, files: Iterable[Any] = ()
) -> Rectification:
    """The unit's handler or leader reports what it did, with scans or photos attached."""
    if actor.unit_id != rectification.unit_id or not actor.has_role(*RECTIFIERS):
        raise NotAllowed("整改情况须由被整改单位的经办人或负责人反馈。")
    if not answer.strip():
        raise DomainError("请填写整改情况。", field="answer")
    checked = []
    for upload in files:
        try:
            checked.append(check_upload(upload))
        except UploadRejected as error:
            raise DomainError(
                f"附件“{display_name(upload.name)}”不能上传：{error}", field="files"
            ) from None
    with transaction.atomic():
        rectification = Rectification.objects.select_for_update().get(pk=rectification.pk)
        if rectification.state != Rectification.State.ORDERED:
            raise Conflict("该整改要求不在待整改状态。")
        rectification.answer = answer.strip()
        rectification.answered_by = actor
        rectification.answered_at = timezone.now()
        rectification.state = Rectification.State.ANSWERED
        rectification.history = [*rectification.history, _entry("answer", actor, answer)]
        rectification.save(
            update_fields=["answer", "answered_by", "answered_at", "state", "history"]
        )
        answers = sum(1 for entry in rectification.history if entry["action"] == "answer")
        for upload in checked:
            RectificationAttachment.objects.create(
                rectification=rectification,
                round=answers,
                file=upload.content,
                original_name=upload.original_name,
                mime=upload.mime,
                size=upload.size,
                sha256=upload.sha256,
                uploaded_by=actor,
            )
    for supervisor in staff_with_role(Role.COUNTY_SUPERVISOR):
        notify(
            supervisor,
            key=f"rectification:{rectification.pk}:answer:{len(rectification.history)}",
            title=f"{rectification.unit.name}已反馈整改情况",
            url=f"/supervision/findings/{rectification.finding_id}/",
        )
    return rectification


def decide_rectification(
    *,
    rectification: Rectification,
    actor: User,
    accept: bool,
    note: str = "",
    new_due_on: date | None = None,
) -> Rectification:
    """The county accepts the answer (closing the finding) or reopens the order."""
    _require_supervisor(actor)
    with transaction.atomic():
        rectification = Rectification.objects.select_for_update().get(pk=rectification.pk)
        if rectification.state != Rectification.State.ANSWERED or not rectification.answer:
            raise Conflict("单位尚未反馈整改情况，不能验收或关闭。")
        if not accept and not note.strip():
            raise DomainError("退回重新整改须说明理由。", field="note")
        rectification.decided_by = actor
        rectification.decided_at = timezone.now()
        rectification.verdict_note = note.strip()
        rectification.history = [
            *rectification.history,
            _entry("accept" if accept else "reopen", actor, note),
        ]
        fields = ["decided_by", "decided_at", "verdict_note", "history", "state"]
        if accept:
            rectification.state = Rectification.State.ACCEPTED
            _close_finding(rectification.finding, note=f"整改已验收：{note}".rstrip("："))
        else:
            rectification.state = Rectification.State.ORDERED
            if new_due_on:
                rectification.due_on = new_due_on
                fields.append("due_on")
        rectification.save(update_fields=fields)
    if not accept:
        _notify_unit(
            rectification.unit_id,
            roles=RECTIFIERS,
            key=f"rectification:{rectification.pk}:reopen:{len(rectification.history)}",
            title=f"整改未通过验收，请重新整改：{note}",
            url=f"/supervision/findings/{rectification.finding_id}/",
        )
    return rectification


def _close_finding(finding: Finding, *, note: str) -> None:
    Finding.objects.filter(pk=finding.pk, state=Finding.State.OPEN).update(
        state=Finding.State.CLOSED, closed_at=timezone.now(), close_note=note[:300]
    )


def _entry(action: str, actor: User, text: str) -> dict[str, str]:
    return {
        "action": action,
        "by": actor.full_name or actor.username,
        "at": timezone.now().isoformat(),
        "text": text.strip(),
    }


_notify_unit = notify_unit


# --- Revocation ------------------------------------------------------------------------------


def revoke_decision(
    *,
    case: Case,
    actor: User,
    reason: str,
    stop_from: date,
    finding: Finding | None = None,
    otp_token: str = "",
) -> Revocation:
    """Revoke a unit's decision (撤销审核确认决定): signed, stops payment from a month, ends the case."""
    _require_supervisor(actor)
    if not reason.strip():
        raise DomainError("撤销审核确认决定须说明理由。", field="reason")
    stop_from = stop_from.replace(day=1)
    with locked_case(case.pk) as case:
        require_transition(case, "terminate")
        from_state = case.state
        signature = sign(
            case,
            step=SignatureStep.REVOCATION,
            signer=actor,
            role=Role.COUNTY_SUPERVISOR,
            text=reason.strip(),
            otp_token=otp_token,
        )
        case.terminate(reason=f"县民政局撤销审核确认决定：{reason.strip()}"[:300])
        save_transition(case, "termination_reason")
        record_event(
            case,
            action="revoke",
            label="县民政局撤销审核确认决定",
            actor=actor,
            role=Role.COUNTY_SUPERVISOR,
            from_state=from_state,
            note=reason.strip(),
            data={"stop_from": stop_from, "signature": signature.pk},
        )
        revocation = Revocation.objects.create(
            case=case,
            reason=reason.strip(),
            stop_from=stop_from,
            signature=signature,
            finding=finding,
            revoked_by=actor,
        )
        _stop_payment(case=case, actor=actor, stop_from=stop_from, reason=reason.strip())
        decision = issue_revocation_decision(revocation=revocation, actor=actor)
        if finding is not None:
            _close_finding(finding, note="已撤销审核确认决定")
        transaction.on_commit(
            lambda: _notify_unit(
                case.unit_id,
                key=f"revocation:{revocation.pk}",
                title=f"县民政局撤销了案件{case.number}的审核确认决定（{decision.number}），"
                f"自{stop_from:%Y年%m月}起停发",
                body=reason.strip(),
                url=f"/cases/{case.pk}/",
            )
        )
    return revocation


def _stop_payment(*, case: Case, actor: User, stop_from: date, reason: str) -> None:
    """Stop the case's entitlement from the stated month (none yet: nothing is paid)."""
    from disbursement.models import ChangeSource, Entitlement
    from disbursement.services import stop_entitlement

    entitlement = Entitlement.objects.filter(case=case).first()
    if entitlement is None:
        return
    if entitlement.end_month is not None and entitlement.end_month < stop_from:
        return  # already stopped before the stated month
    stop_entitlement(
        entitlement=entitlement,
        effective_month=max(stop_from, entitlement.start_month),
        reason=f"撤销审核确认决定：{reason}"[:300],
        source=ChangeSource.REVOCATION,
        actor=actor,
    )


# --- Complaints ------------------------------------------------------------------------------

COMPLAINT_ANSWER_DAYS = 60  # 《信访工作条例》: answer within 60 days of acceptance


def register_complaint(*, actor: User, data: dict[str, Any]) -> Complaint:
    """Register a petition or report; the subject is required, the complainant may stay anonymous."""
    _require_supervisor(actor)
    subject = (data.get("subject") or "").strip()
    if not subject:
        raise DomainError("请填写信访举报事由。", field="subject")
    if data.get("channel") not in Complaint.Channel.values:
        raise DomainError("请选择来源方式。", field="channel")
    anonymous = bool(data.get("anonymous"))
    received_on = data.get("received_on") or timezone.localdate()
    case = data.get("case")
    return Complaint.objects.create(
        received_on=received_on,
        channel=data["channel"],
        anonymous=anonymous,
        complainant_name="" if anonymous else (data.get("complainant_name") or "").strip(),
        complainant_contact="" if anonymous else (data.get("complainant_contact") or "").strip(),
        subject=subject,
        content=(data.get("content") or "").strip(),
        case=case,
        unit=data.get("unit") or (case.unit if case else None),
        due_on=data.get("due_on") or received_on + timedelta(days=COMPLAINT_ANSWER_DAYS),
        registered_by=actor,
    )


def assign_complaint(*, complaint: Complaint, actor: User, assignee: User) -> Complaint:
    _require_supervisor(actor)
    if not assignee.is_county_staff:
        raise DomainError("信访举报须交由县民政局工作人员承办。", field="assignee")
    _require_open(complaint)
    complaint.assignee = assignee
    complaint.state = Complaint.State.ASSIGNED
    complaint.save(update_fields=["assignee", "state"])
    notify(
        assignee,
        key=f"complaint:{complaint.pk}:assigned:{assignee.pk}",
        title=f"交办信访举报：{complaint.subject}",
        url=f"/supervision/complaints/{complaint.pk}/",
    )
    return complaint


def record_investigation(
    *,
    complaint: Complaint,
    actor: User,
    investigation: str,
    substantiated: bool,
    findings: Iterable[Finding] = (),
) -> Complaint:
    """The county's finding on a complaint; a substantiated one raises a finding on the unit."""
    _require_supervisor(actor)
    if not investigation.strip():
        raise DomainError("请填写调查情况。", field="investigation")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _require_open(complaint)
        if complaint.state == Complaint.State.HANDED_OFF:
            raise Conflict("该信访举报已转乡镇办理，须待乡镇反馈后再记录调查情况。")
        complaint.investigation = investigation.strip()
        complaint.substantiated = substantiated
        complaint.state = Complaint.State.INVESTIGATED
        complaint.save(update_fields=["investigation", "substantiated", "state"])
        if substantiated and complaint.unit_id:
            finding, _ = Finding.objects.get_or_create(
                rule=Rule.COMPLAINT,
                case=complaint.case,
                unit_id=complaint.unit_id,
                state=Finding.State.OPEN,
                defaults={
                    "evidence": {
                        "complaint": complaint.pk,
                        "subject": complaint.subject,
                        "investigation": complaint.investigation,
                    }
                },
            )
            complaint.findings.add(finding)
        complaint.findings.add(*findings)
    return complaint


def close_complaint(*, complaint: Complaint, actor: User) -> Complaint:
    _require_supervisor(actor)
    if complaint.state != Complaint.State.ANSWERED:
        raise Conflict("尚未答复的信访举报不能办结。")
    complaint.state = Complaint.State.CLOSED
    complaint.closed_at = timezone.now()
    complaint.save(update_fields=["state", "closed_at"])
    return complaint


def _require_open(complaint: Complaint) -> None:
    if complaint.state in (Complaint.State.ANSWERED, Complaint.State.CLOSED):
        raise Conflict("该信访举报已答复或办结。")
