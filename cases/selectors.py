"""Reads of cases for pages, the API and the home page, each with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Role, User
from dengkou_aid.errors import NotAllowed
from dengkou_aid.lib.crypto import keyed_hash
from dengkou_aid.lib.idnumber import InvalidIdNumber, validate_id_number

from . import ineligible, rechecks
from .deadlines.calendar import add_workdays, workdays_between
from .models import (
    CLOCK_STATES,
    DECIDED_STATES,
    VERIFICATION_AGENCIES,
    Case,
    CaseEvent,
    CaseFile,
    Kind,
    Opinion,
    Outcome,
    Person,
    Publicity,
    Signature,
    State,
    VerificationReport,
    VerificationRequest,
    outcome_words,
)
from .permissions import acting_role, cases_visible_to

ORDERINGS = {
    "due": ("due_date", "id"),
    "-due": ("-due_date", "-id"),
    "submitted": ("submitted_at", "id"),
    "-submitted": ("-submitted_at", "-id"),
    "number": ("number",),
}


def search_cases(
    user: User,
    *,
    kind: str = "",
    state: str = "",
    village: int | str | None = None,
    q: str = "",
    days_left: int | str | None = None,
    order: str = "",
) -> QuerySet[Case]:
    """The user's cases filtered: by kind, state, village, working days left, name or ID number.

    An ID number is matched by its keyed hash (exact), never by reading the ciphertext.
    """
    cases = cases_visible_to(user).select_related("village", "applicant", "unit", "handler")
    if kind:
        cases = cases.filter(kind=kind)
    if state:
        cases = cases.filter(state=state)
    if village:
        cases = cases.filter(village_id=int(village))
    if q:
        cases = cases.filter(_search(q.strip()))
    if days_left not in (None, ""):
        limit = add_workdays(timezone.localdate(), int(days_left)).date
        cases = cases.filter(state__in=CLOCK_STATES, due_date__lte=limit)
    return cases.order_by(*ORDERINGS.get(order, ("-submitted_at", "-id")))


def _search(text: str) -> Q:
    try:
        number = validate_id_number(text)
    except InvalidIdNumber:
        return Q(applicant__name__contains=text) | Q(number__contains=text)
    hashed = keyed_hash(number)
    return Q(household__members__id_hash=hashed)


def case_detail(user: User) -> QuerySet[Case]:
    """The user's cases with everything the case page and the API detail show, prefetched."""
    return (
        cases_visible_to(user)
        .select_related(
            "unit",
            "village",
            "household",
            "household__village",
            "applicant",
            "handler",
            "filed_by",
            "agency",
        )
        .prefetch_related(
            Prefetch("household__members", queryset=Person.objects.order_by("id")),
            "assessments",
            Prefetch(
                "signatures", queryset=Signature.objects.select_related("void").order_by("id")
            ),
            Prefetch("publicities", queryset=Publicity.objects.prefetch_related("objections")),
            Prefetch("files", queryset=CaseFile.objects.select_related("requirement")),
            "consents",
            "home_visits",
            "appraisals",
            "verification_requests__report",
        )
    )


def case_events(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor", "actor_unit").order_by("seq")


def workdays_left(case: Case, today: date | None = None, calendar=None) -> int | None:
    """Working days from today to the due date while the clock runs (negative when overdue).

    Lists pass one `current_calendar()` for all rows, so the count costs no query per row.
    """
    if not case.clock_running:
        return None
    today = today or timezone.localdate()
    if calendar is not None:
        return calendar.workdays_between(today, case.due_date)
    return workdays_between(today, case.due_date)


# --- what a user may do now ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    roles: tuple[str, ...]
    method: str | None = None  # the model transition guarding it, if any
    states: tuple[str, ...] = ()  # otherwise the states in which it may be taken


H, D, F, V, VO, IV, S = (
    Role.HANDLER,
    Role.DIRECT_RESPONSIBLE,
    Role.FIRST_RESPONSIBLE,
    Role.VILLAGE_ASSISTANT,
    Role.VERIFICATION_OFFICER,
    Role.INVESTIGATOR,
    Role.COUNTY_SUPERVISOR,
)

STEPS = (
    Step("accept", "受理", (H,), "accept"),
    Step("refuse", "不予受理", (H,), "refuse"),
    Step("record_consent", "登记诚信声明及核对授权", (H,), "authorize"),
    Step("request_verification", "委托县级核对", (H,), "request_verification"),
    Step("record_verification_report", "录入核对报告", (VO,), "record_verification"),
    Step("assign_agency", "分派第三方入户调查", (H,), states=(State.SUBMITTED, *CLOCK_STATES)),
    Step("record_home_visit", "录入入户调查", (H, IV), "record_visit"),
    Step("record_appraisal", "录入民主评议", (H,), states=(State.VISITED, State.ASSESSED)),
    Step("assess", "收入核算", (H,), "assess"),
    Step("publish", "发布公示", (H,), "publish"),
    Step("record_objection", "登记公示异议", (H, V), states=(State.IN_PUBLICITY,)),
    Step(
        "resolve_objection",
        "核实公示异议",
        (H,),
        states=(State.IN_PUBLICITY, State.PROPOSED, State.OPINION_SIGNED),
    ),
    Step("propose", "提出审核意见", (H,), "propose"),
    Step("sign_opinion", "签署审核意见", (D,), "sign_opinion"),
    Step("confirm", "签发审核确认", (F,), "confirm"),
    Step("issue_decision", "出具决定书/告知书", (H,), states=(State.CONFIRMED,)),
    Step("extend", "延期", (D,), states=CLOCK_STATES),
    Step("withdraw", "登记撤回申请", (H, V), "withdraw"),
    Step("terminate", "终止救助", (F, S), "terminate"),
)
STEP_BY_NAME = {step.name: step for step in STEPS}


def available_steps(user: User, case: Case) -> list[Step]:
    """The steps this user may take on this case now (preconditions are checked on submit)."""
    steps = []
    for step in STEPS:
        if step.method is not None:
            if not can_proceed(getattr(case, step.method), check_conditions=False):
                continue
        elif case.state not in step.states:
            continue
        if step.name == "extend" and (case.extended or case.due_date is None):
            continue
        if step.name == "resolve_objection" and not _open_objections(case):
            continue
        if step.name == "publish" and ineligible.ineligibility(case) is not None:
            continue  # the publicity lists only households proposed for assistance
        try:
            acting_role(user, case, *step.roles)
        except NotAllowed:
            continue
        steps.append(step)
    return steps


def _open_objections(case: Case) -> list:
    return [
        o
        for publicity in case.publicities.all()
        for o in publicity.objections.all()
        if o.substantiated is None
    ]


# --- home page -----------------------------------------------------------------------------

WAITING_FOR = {
    Role.HANDLER: (
        State.SUBMITTED,
        State.ACCEPTED,
        State.AUTHORIZED,
        State.VERIFIED,
        State.VISITED,
        State.ASSESSED,
        State.IN_PUBLICITY,
        State.CONFIRMED,
    ),
    Role.DIRECT_RESPONSIBLE: (State.PROPOSED,),
    Role.FIRST_RESPONSIBLE: (State.OPINION_SIGNED,),
    Role.VILLAGE_ASSISTANT: (State.SUBMITTED, *CLOCK_STATES),
    Role.VERIFICATION_OFFICER: (State.VERIFICATION_REQUESTED,),
}


def waiting_for(user: User, role: str) -> QuerySet[Case]:
    """Cases waiting for this person in this role, soonest deadline first."""
    cases = cases_visible_to(user).filter(state__in=WAITING_FOR[role])
    if role == Role.HANDLER:
        cases = cases.filter(Q(handler=user) | Q(handler__isnull=True))
    return cases.select_related("applicant", "village").order_by("due_date", "submitted_at")


HOME_TITLES = {
    Role.HANDLER: ("待办案件", "暂无待办案件。"),
    Role.DIRECT_RESPONSIBLE: ("待签署审核意见", "暂无待签署事项。"),
    Role.FIRST_RESPONSIBLE: ("待签发审核确认决定", "暂无待签发事项。"),
    Role.VILLAGE_ASSISTANT: ("本村在办申请", "暂无在办申请。"),
    Role.VERIFICATION_OFFICER: ("待出具核对报告", "暂无核对委托。"),
}
HOME_ITEMS = 10


def case_home(role: str):
    """A home-page provider: the cases waiting for this person in this role (two queries)."""
    title, empty = HOME_TITLES[role]

    def provider(user: User) -> dict:
        cases = waiting_for(user, role)
        # The officer enters reports on the verification page, everyone else acts on the case page.
        page = "/cases/verification/" if role == Role.VERIFICATION_OFFICER else None
        items = [
            {
                "url": page or f"/cases/{case.pk}/",
                "label": f"{case.number} {case.applicant.name}（{case.village.name}）",
                "note": case.get_state_display()
                + (f" · 期限 {case.due_date:%Y-%m-%d}" if case.due_date else ""),
            }
            for case in cases[:HOME_ITEMS]
        ]
        links = [{"url": "/cases/", "label": "全部案件"}]
        if role == Role.VILLAGE_ASSISTANT:
            links.append({"url": "/cases/new/", "label": "委托申请"})
        count = cases.count()
        if role == Role.VERIFICATION_OFFICER:
            links = [{"url": "/cases/verification/", "label": "核对任务"}]
            # Re-checks asked for by reviews of households in payment wait in the same queue.
            waiting = rechecks.pending_rechecks()
            items += [
                {
                    "url": "/cases/verification/",
                    "label": f"{r.case.number} {r.case.applicant.name}（{r.case.village.name}）",
                    "note": "在保家庭复核重新核对",
                }
                for r in waiting[: max(HOME_ITEMS - len(items), 0)]
            ]
            count += waiting.count()
        return {
            "title": title,
            "items": items,
            "empty": empty,
            "count": count,
            "links": links,
        }

    return provider


# What the handler does next in each state, in the order of the path.
HANDLER_NEXT = {
    State.SUBMITTED: "待受理",
    State.ACCEPTED: "待登记诚信声明及核对授权",
    State.AUTHORIZED: "待委托县级核对",
    State.VERIFIED: "待入户调查",
    State.VISITED: "待收入核算",
    State.ASSESSED: "待发布公示",
    State.IN_PUBLICITY: "公示中，期满后提出审核意见",
    State.CONFIRMED: "待出具决定书/告知书",
}
QUEUE_ROWS = 40


def handler_queue(user: User) -> dict:
    """The handler's cases by step, soonest deadline first within a step (three queries)."""
    from .deadlines.calendar import current_calendar  # noqa: PLC0415  (loaded once per process)

    cases = waiting_for(user, Role.HANDLER)
    counts = dict(
        cases.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    shown = list(cases[:QUEUE_ROWS])
    calendar = current_calendar()
    groups = []
    for state, label in HANDLER_NEXT.items():
        rows = [case for case in shown if case.state == state]
        if not counts.get(state):
            continue
        groups.append(
            {
                "title": label,
                "count": counts[state],
                "items": [_queue_item(case, calendar) for case in rows],
                "more": counts[state] - len(rows),
                "more_url": f"/cases/?state={state}&order=due",
            }
        )
    return {"groups": groups, "count": sum(counts.values())}


def _queue_item(case: Case, calendar) -> dict:
    left = workdays_left(case, calendar=calendar)
    note = f"期限 {case.due_date:%Y-%m-%d}" if case.due_date else "未受理，尚未起算期限"
    if left is not None:
        note += f" · 超期{-left}个工作日" if left < 0 else f" · 剩余{left}个工作日"
    anchor = "#documents" if case.state == State.CONFIRMED else ""
    return {
        "url": f"/cases/{case.pk}/{anchor}",
        "label": f"{case.number} {case.applicant.name}（{case.village.name}）",
        "note": note,
        "late": left is not None and left < 0,
    }


def village_returned(user: User, *, days: int = 90) -> QuerySet[Case]:
    """Applications of the assistant's village refused at the unit (不予受理) lately, with reasons."""
    since = timezone.now() - timedelta(days=days)
    return (
        cases_visible_to(user)
        .filter(state=State.REFUSED, updated_at__gte=since)
        .select_related("applicant", "village")
        .order_by("-updated_at", "-id")
    )


# --- what a confirmation shows before an act that cannot be undone ------------------------

# Acts that cannot be undone: the page asks to confirm them, showing what will be signed.
CONFIRMED_STEPS = frozenset(
    {
        "refuse",
        "withdraw",
        "propose",
        "sign_opinion",
        "confirm",
        "issue_decision",
        "extend",
        "terminate",
    }
)
# Acts that sign: the signer re-enters a one-time code when their role signs in with one.
CODE_SIGNED_STEPS = frozenset({"propose", "sign_opinion", "confirm", "extend", "terminate"})


def what_is_signed(user: User, case: Case, name: str, data: dict) -> list[tuple[str, str]]:
    """The rows a confirmation shows: the case's decisive facts, the chain so far, the act.

    Refuses, as the act itself would, someone who may not take it (三员分立 included).
    """
    step = STEP_BY_NAME[name]
    role = acting_role(user, case, *step.roles)
    if name in CODE_SIGNED_STEPS and not user.may_sign:
        raise NotAllowed("系统管理员和安全审计员不能签字：三员分立，签字须由业务岗位本人完成。")
    rows = _case_facts(case)
    for signature in case.signatures.filter(void__isnull=True).order_by("signed_at", "id"):
        words = signature.verdict + (f"：{signature.text}" if signature.text else "")
        when = timezone.localtime(signature.signed_at).strftime("%Y-%m-%d %H:%M")
        rows.append((signature.get_step_display(), f"{words}（{signature.signer_name}，{when}）"))
    rows += _act_rows(case, name, data)
    rows += [
        ("签署人", f"{user.full_name or user.username}（{Role(role).label}，{user.unit.name}）"),
        ("签署时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")),
    ]
    return rows


def _case_facts(case: Case) -> list[tuple[str, str]]:
    members = list(case.household.members.active())
    head = next((m for m in members if m.relation == "head"), members[0] if members else None)
    rows = [
        ("案件编号", case.number),
        ("救助类别", case.get_kind_display()),
        ("申请人", head.name if head else "—"),
        ("家庭人口", f"{len(members)}人"),
        ("嘎查村/社区", case.village.name),
    ]
    assessment = case.assessments.order_by("-id").first()
    if assessment is not None:
        rows += [
            (
                "月人均收入",
                f"{assessment.per_capita_income}元（标准{assessment.standard_amount}元）",
            ),
            ("收入核算结论", "符合条件" if assessment.eligible else "不符合条件"),
        ]
    return rows


def _act_rows(case: Case, name: str, data: dict) -> list[tuple[str, str]]:
    kind, outcome, text = case.kind, data.get("outcome", ""), data.get("text", "")
    if name == "refuse":
        return [("不予受理理由", data.get("reason", "")), ("将出具", "不予受理通知书")]
    if name == "withdraw":
        return [("撤回理由", data.get("reason", ""))]
    if name == "propose":
        return [("经办人审核意见", outcome_words(kind, outcome, proposed=True)), ("意见内容", text)]
    if name == "sign_opinion":
        opinion = data.get("opinion", "")
        words = Opinion(opinion).label if opinion in Opinion.values else ""
        proposal = outcome_words(kind, case.outcome, proposed=True)
        return [("经办人拟办结果", proposal), ("分管领导意见", words), ("意见内容", text)]
    if name == "confirm":
        rows = [("审核确认结果", outcome_words(kind, outcome))]
        amount = _amount_row(case) if outcome == Outcome.APPROVE else None
        if amount:
            rows.append(amount)
        if outcome == Outcome.REJECT:
            rows.append(("不予保障理由", data.get("reason", "")))
        return [*rows, ("意见内容", text)]
    if name == "issue_decision":
        approved = case.outcome == Outcome.APPROVE
        return [("将出具", "批准决定书" if approved else "不予保障告知书")]
    if name == "extend":
        return [("延期理由", data.get("reason", "")), ("原办结期限", str(case.due_date or "—"))]
    return [("终止理由", data.get("reason", ""))]


def _amount_row(case: Case) -> tuple[str, str] | None:
    """A marginal family is confirmed, not paid: its confirmation names no amount."""
    if case.kind == Kind.MARGINAL:
        return None
    assessment = case.assessments.order_by("-id").first()
    amount = (
        case.monthly_amount
        if case.monthly_amount is not None
        else getattr(assessment, "amount", None)
    )
    return ("月救助金额", f"{amount}元") if amount is not None else None


def outcome_summary(case: Case) -> dict:
    """The outcome as the case page states it: the decision (with its amount) once the
    first-responsible has decided, before that only the handler's proposal (拟…)."""
    decided = case.state in DECIDED_STATES
    words = outcome_words(case.kind, case.outcome, proposed=not decided)
    paid = decided and case.outcome == Outcome.APPROVE and case.kind != Kind.MARGINAL
    return {
        "decided": decided and bool(words),
        "words": words,
        "amount": case.monthly_amount if paid else None,
    }


# --- the county verification officer's work ----------------------------------------------


def verification_notes(case_ids: list[int]) -> dict[int, str]:
    """The handler's note on each case's latest verification request (one query)."""
    notes: dict[int, str] = {}
    rows = VerificationRequest.objects.filter(case_id__in=case_ids).order_by("id")
    for case_id, note in rows.values_list("case_id", "note"):
        notes[case_id] = note
    return notes


def finding_form_rows(posted=None) -> list[dict]:
    """The findings form: one row per agency the centre checks, then two for others;
    what was typed comes back when the report is refused."""
    agencies = [*VERIFICATION_AGENCIES, "", ""]
    typed = []
    if posted:
        columns = (posted.getlist("agency"), posted.getlist("found"), posted.getlist("result"))
        typed = list(zip(*columns, strict=False))
    rows = []
    for i, agency in enumerate(agencies):
        got = typed[i] if i < len(typed) else (agency, "", "")
        rows.append(
            {"fixed": bool(agency), "agency": agency or got[0], "found": got[1], "result": got[2]}
        )
    return rows


def latest_report(case: Case):
    """The case's latest verification report, or None."""
    return VerificationReport.objects.filter(request__case=case).order_by("-id").first()
