"""Complaints handed to the township concerned: the hand-off with a working-day deadline,
the township's answer back to the county, and the county's numbered reply letter."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Unit, User
from accounts.notify import notify, staff_with_role
from cases.deadlines.calendar import add_workdays
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.masking import mask_name

from ..models import Complaint, ComplaintReply, CountySignature
from ..notices import notify_unit, require_supervisor
from ..numbering import cn_date, next_number, render_into, sign_county, signature_lines

# The county's setting: the township answers within this many working days of the hand-off.
TOWNSHIP_ANSWER_WORKDAYS = 10
TOWNSHIP_ROLES = (Role.HANDLER, Role.DIRECT_RESPONSIBLE, Role.FIRST_RESPONSIBLE)
HANDED_OFF_FROM = (Complaint.State.REGISTERED, Complaint.State.ASSIGNED)


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def hand_off_complaint(
    *, complaint: Complaint, actor: User, unit: Unit | None, note: str = ""
) -> Complaint:
    """Hand a complaint to the township it is about, due back in working days."""
    require_supervisor(actor)
    if unit is None:
        raise DomainError("请选择转办的苏木镇（农场）。", field="unit")
    concerned = complaint.unit_id or (complaint.case.unit_id if complaint.case_id else None)
    if concerned is None:
        raise DomainError("该信访举报未登记涉及的苏木镇（农场），不能转交乡镇办理。", field="unit")
    if unit.pk != concerned:
        about = Unit.objects.get(pk=concerned).name
        raise DomainError(f"该信访举报涉及的是{about}，不能转交{unit.name}办理。", field="unit")
    today = timezone.localdate()
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.state not in HANDED_OFF_FROM:
            raise Conflict("该信访举报已转办或已调查，不能再转交乡镇。")
        complaint.handed_to = unit
        complaint.handoff_note = note.strip()
        complaint.handed_at = timezone.now()
        complaint.township_due_on = add_workdays(today, TOWNSHIP_ANSWER_WORKDAYS).date
        complaint.state = Complaint.State.HANDED_OFF
        complaint.save(
            update_fields=[
                "handed_to",
                "handoff_note",
                "handed_at",
                "township_due_on",
                "state",
            ]
        )
        transaction.on_commit(
            lambda: notify_unit(
                unit.pk,
                roles=TOWNSHIP_ROLES,
                key=f"complaint:{complaint.pk}:handed_off",
                title=f"县民政局转办信访举报：{complaint.subject}，"
                f"请于{complaint.township_due_on:%Y年%m月%d日}前反馈",
                url=f"/supervision/complaints/township/{complaint.pk}/",
            )
        )
    return complaint


def answer_as_township(
    *, complaint: Complaint, actor: User, answer: str, substantiated: bool | None
) -> Complaint:
    """The township reports what it found and did back to the county."""
    if not answer.strip():
        raise DomainError("请填写调查处理情况。", field="answer")
    if substantiated is None:
        raise DomainError("请选择反映问题是否属实。", field="substantiated")
    with transaction.atomic():
        complaint = _locked(complaint)
        if actor.unit_id != complaint.handed_to_id or not actor.has_role(*TOWNSHIP_ROLES):
            raise NotAllowed("转办的信访举报须由承办单位的经办人或负责人反馈。")
        if complaint.state != Complaint.State.HANDED_OFF:
            raise Conflict("该信访举报不在待乡镇反馈状态。")
        complaint.township_answer = answer.strip()
        complaint.township_substantiated = substantiated
        complaint.township_answered_by = actor
        complaint.township_answered_at = timezone.now()
        complaint.state = Complaint.State.TOWNSHIP_ANSWERED
        complaint.save(
            update_fields=[
                "township_answer",
                "township_substantiated",
                "township_answered_by",
                "township_answered_at",
                "state",
            ]
        )
        transaction.on_commit(lambda: _tell_supervisors(complaint))
    return complaint


def _tell_supervisors(complaint: Complaint) -> None:
    for supervisor in staff_with_role(Role.COUNTY_SUPERVISOR):
        notify(
            supervisor,
            key=f"complaint:{complaint.pk}:township_answer",
            title=f"{complaint.handed_to.name}已反馈信访举报办理情况：{complaint.subject}",
            url=f"/supervision/complaints/{complaint.pk}/",
        )


def answer_complaint(*, complaint: Complaint, actor: User, answer: str) -> Complaint:
    """The county answers the complainant: a numbered, signed reply letter (答复意见书),
    unless the complaint is anonymous (there is no one to address)."""
    require_supervisor(actor)
    if not answer.strip():
        raise DomainError("请填写答复意见。", field="answer")
    today = timezone.localdate()
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.state != Complaint.State.INVESTIGATED:
            raise Conflict("须先记录调查情况再答复。")
        complaint.answer = answer.strip()
        complaint.answered_at = timezone.now()
        complaint.state = Complaint.State.ANSWERED
        complaint.save(update_fields=["answer", "answered_at", "state"])
        if not complaint.anonymous:
            _reply_letter(complaint, actor, today)
    return complaint


def _reply_letter(complaint: Complaint, actor: User, today) -> ComplaintReply:
    number = next_number("complaint_reply", on=today)
    content = {
        "number": number,
        "complaint": complaint.pk,
        "subject": complaint.subject,
        "answer": complaint.answer,
    }
    signature = sign_county(actor=actor, act=CountySignature.Act.COMPLAINT_REPLY, over=content)
    reply = ComplaintReply(complaint=complaint, number=number, issued_on=today, signature=signature)
    reply.sha256 = render_into(
        reply.file,
        "supervision/pdf/complaint_reply.html",
        {
            "title": "信访事项答复意见书",
            "header": "磴口县民政局",
            "number": number,
            "date": cn_date(today),
            "signed": signature_lines(signature),
            "complainant": complaint.complainant_name,
            "received_on": cn_date(complaint.received_on),
            "channel": complaint.get_channel_display(),
            "subject": complaint.subject,
            "investigation": complaint.investigation,
            "substantiated": complaint.substantiated,
            "township": complaint.handed_to.name if complaint.handed_to_id else "",
            "answer": complaint.answer,
        },
    )
    reply.save()
    return reply


def masked_complainant(complaint: Complaint) -> str:
    """How the township sees who complained: 匿名, or the name masked."""
    if complaint.anonymous or not complaint.complainant_name:
        return "匿名"
    return mask_name(complaint.complainant_name)
