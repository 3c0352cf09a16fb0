"""Every act of the case workflow, one keyword-only atomic function each.

Each service: locks the case (409 for a stale `version`), checks the actor's role and unit,
checks the state and preconditions (saying exactly what is missing), calls the model's
transition, saves with `update_fields`, writes the `CaseEvent`, and queues notifications
only after commit. Pages and the API both call these; neither checks rules of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts import audit
from accounts.models import AuditLog, Role, Unit, UnitKind, User, Village
from accounts.notify import notify, staff_with_role
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.crypto import keyed_hash
from dengkou_aid.lib.idnumber import (
    InvalidIdNumber,
    birth_date_from_id,
    sex_from_id,
    validate_id_number,
)
from dengkou_aid.lib.uploads import UploadRejected, check_upload

from . import assessment as calc
from . import ineligible
from .deadlines.calendar import ACCEPTANCE_LIMIT_WORKDAYS, EXTENSION_WORKDAYS, add_workdays
from .events import (
    locked_case,
    next_case_number,
    record_event,
    require_transition,
    save_transition,
    sign,
    valid_signatures,
    void_signatures,
)
from .facts.selectors import facts_changed_after_assessment

# CONSENT_MATERIALS is re-exported for callers of the former name; the rule lives in materials.
from .materials import CONSENT_MATERIALS as CONSENT_MATERIALS
from .materials import materials_missing
from .models import (
    CLOCK_STATES,
    ApplicantConsent,
    Case,
    CaseFile,
    CountyRules,
    DemocraticAppraisal,
    FileCategory,
    HomeVisit,
    Household,
    Income,
    IncomeAssessment,
    IncomeKind,
    Kind,
    MaterialRequirement,
    Objection,
    Opinion,
    Outcome,
    Person,
    Publicity,
    Relation,
    SignatureStep,
    StandardKind,
    State,
    VerificationReport,
    VerificationRequest,
    WorkAbility,
    outcome_words,
)
from .permissions import acting_role

# Steps that come after the handler's proposal; a change to what they signed voids them.
CHAIN_STEPS = (SignatureStep.PROPOSAL, SignatureStep.OPINION, SignatureStep.DECISION)
OPEN_STATES = (State.SUBMITTED, *CLOCK_STATES, State.CONFIRMED)


# --- small checks ------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _not_future(day: date, *, field: str, label: str) -> date:
    if day > _today():
        raise DomainError(f"{label}不能晚于今天（{_today():%Y-%m-%d}）。", field=field)
    return day


def _required_text(value: str, *, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"请填写{label}。", field=field)
    return value


def _refuse_missing(message: str, missing: list[str], *, field: str | None = None) -> None:
    if missing:
        raise DomainError(f"{message}：{'；'.join(missing)}。", field=field, missing=missing)


def _save(case: Case, *fields: str) -> None:
    """Save a change that is not a state transition, bumping the version."""
    case.version += 1
    case.save(update_fields=["version", "updated_at", *fields])


def _notify_after_commit(users, *, key: str, title: str, url: str = "") -> None:
    user_ids = [u.pk for u in users]

    def send() -> None:
        for user in User.objects.filter(pk__in=user_ids):
            notify(user, key=key, title=title, url=url)

    transaction.on_commit(send)


def case_url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def _store_file(case: Case, *, upload, category: str, actor: User, requirement=None) -> CaseFile:
    try:
        checked = check_upload(upload)
    except UploadRejected as exc:
        raise DomainError(str(exc), field="file") from None
    return CaseFile.objects.create(
        case=case,
        category=category,
        requirement=requirement,
        file=checked.content,
        original_name=checked.original_name,
        mime=checked.mime,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
    )


# --- filing ------------------------------------------------------------------------------


@dataclass
class IncomeInput:
    kind: str
    source: str
    monthly_amount: Decimal
    period_start: date | None = None
    period_end: date | None = None
    exempt: bool = False
    exempt_reason: str = ""
    months_received: int | None = None


@dataclass
class MemberInput:
    name: str
    id_number: str
    relation: str = Relation.HEAD
    work_ability: str = WorkAbility.ABLE
    disability_grade: int = 0
    illness: str = ""
    income_irregular: bool = False
    phone: str = ""
    incomes: list[IncomeInput] | None = None


def _member(data: MemberInput | dict[str, Any]) -> MemberInput:
    if isinstance(data, MemberInput):
        return data
    incomes = [
        i if isinstance(i, IncomeInput) else IncomeInput(**i) for i in data.get("incomes") or []
    ]
    return MemberInput(**{**data, "incomes": incomes})


def _validate_members(members: list[MemberInput]) -> list[str]:
    """Validate every member; return their normalized ID numbers (400 naming the field)."""
    if not members:
        raise DomainError("请至少填写一名家庭成员（申请人）。", field="members")
    numbers: list[str] = []
    for i, member in enumerate(members):
        prefix = f"members[{i}]"
        _required_text(member.name, field=f"{prefix}.name", label="姓名")
        try:
            number = validate_id_number(member.id_number)
        except InvalidIdNumber as exc:
            raise DomainError(f"{member.name}：{exc}。", field=f"{prefix}.id_number") from None
        if number in numbers:
            raise DomainError(
                f"{member.name}：身份证号与其他成员重复。", field=f"{prefix}.id_number"
            )
        numbers.append(number)
        if member.relation not in Relation.values:
            raise DomainError("与户主关系无效。", field=f"{prefix}.relation")
        if member.work_ability not in WorkAbility.values:
            raise DomainError("劳动能力无效。", field=f"{prefix}.work_ability")
        if not 0 <= int(member.disability_grade) <= 4:
            raise DomainError("残疾等级应为0-4。", field=f"{prefix}.disability_grade")
        for j, income in enumerate(member.incomes or []):
            _validate_income(income, field=f"{prefix}.incomes[{j}]")
    return numbers


def _validate_income(income: IncomeInput, *, field: str) -> None:
    if income.kind not in IncomeKind.values:
        raise DomainError("收入类型无效。", field=f"{field}.kind")
    _required_text(income.source, field=f"{field}.source", label="收入来源")
    try:
        amount = Decimal(str(income.monthly_amount))
    except (InvalidOperation, ValueError):
        raise DomainError("月均金额不是有效数字。", field=f"{field}.monthly_amount") from None
    if amount < 0:
        raise DomainError("月均金额不能为负数。", field=f"{field}.monthly_amount")
    if amount.as_tuple().exponent < -2:
        raise DomainError("月均金额最多保留两位小数。", field=f"{field}.monthly_amount")
    income.monthly_amount = amount
    if income.period_start is not None:
        _not_future(income.period_start, field=f"{field}.period_start", label="收入起始日期")
    if income.period_end and income.period_start and income.period_end < income.period_start:
        raise DomainError("收入截止日期不能早于起始日期。", field=f"{field}.period_end")
    if income.exempt and not (income.exempt_reason or "").strip():
        raise DomainError("不计入家庭收入的，请填写理由。", field=f"{field}.exempt_reason")


def _household_for(numbers: list[str], *, village: Village, area: str, address: str) -> Household:
    """Reuse the household the applicant already belongs to, else create one."""
    existing = {
        p.id_hash: p for p in Person.objects.filter(id_hash__in=[keyed_hash(n) for n in numbers])
    }
    applicant = existing.get(keyed_hash(numbers[0]))
    household = applicant.household if applicant else None
    for i, number in enumerate(numbers):
        person = existing.get(keyed_hash(number))
        if person is not None and (household is None or person.household_id != household.pk):
            raise Conflict(
                f"身份证号{_masked_id(number)}已登记在其他家庭，同一人只能属于一个家庭。",
                field=f"members[{i}].id_number",
            )
    if household is None:
        household = Household.objects.create(
            unit=village.unit, village=village, area=area, address=address
        )
    elif household.village_id != village.pk:
        raise DomainError("申请人家庭登记在其他嘎查村/社区。", field="village")
    return household


def _save_members(household: Household, members: list[MemberInput], numbers: list[str]) -> Person:
    applicant = None
    for member, number in zip(members, numbers, strict=True):
        hashed = keyed_hash(number)
        person = Person.objects.filter(id_hash=hashed).first()
        if person is None:
            try:
                with transaction.atomic():
                    person = Person.objects.create(
                        household=household,
                        name=member.name.strip(),
                        id_number=number,
                        id_hash=hashed,
                        sex=sex_from_id(number),
                        birth_date=birth_date_from_id(number),
                        relation=member.relation,
                        work_ability=member.work_ability,
                        disability_grade=member.disability_grade,
                        illness=member.illness,
                        income_irregular=member.income_irregular,
                        phone=member.phone,
                    )
            except IntegrityError:
                raise Conflict("该身份证号已被登记，请刷新后重试。", field="members") from None
        for income in member.incomes or []:
            Income.objects.create(
                person=person,
                kind=income.kind,
                source=income.source.strip(),
                monthly_amount=income.monthly_amount,
                period_start=income.period_start,
                period_end=income.period_end,
                months_received=income.months_received,
                exempt=income.exempt,
                exempt_reason=income.exempt_reason,
            )
        applicant = applicant or person
    assert applicant is not None
    return applicant


def file_application(
    *,
    actor: User,
    kind: str,
    village: Village,
    area: str,
    members: list[MemberInput | dict[str, Any]],
    address: str = "",
    entrusted_reason: str = "",
) -> Case:
    """File an application at the unit (handler) or entrusted by the village assistant (with reason).

    The first member is the applicant. People are found by the keyed hash of their ID number:
    an ID number is never stored twice, and one person belongs to one household.
    """
    if kind not in Kind.values:
        raise DomainError("救助类别无效。", field="kind")
    if area not in ("urban", "rural"):
        raise DomainError("城乡类别无效。", field="area")
    draft = Case(unit_id=village.unit_id, village=village)
    role = acting_role(actor, draft, Role.HANDLER, Role.VILLAGE_ASSISTANT)
    entrusted = role == Role.VILLAGE_ASSISTANT
    if entrusted:
        entrusted_reason = _required_text(
            entrusted_reason, field="entrusted_reason", label="委托申请原因"
        )
    parsed = [_member(m) for m in members]
    numbers = _validate_members(parsed)
    unit = village.unit
    # Outside the transaction below: the audit row of a refused hit must stay.
    _refuse_registered_elsewhere(numbers, unit=unit, actor=actor)
    with transaction.atomic():
        household = _household_for(numbers, village=village, area=area, address=address)
        if household.cases.filter(kind=kind, state__in=OPEN_STATES).exists():
            raise Conflict("该家庭已有同类别的在办申请，不能重复申请。", field="kind")
        applicant = _save_members(household, parsed, numbers)
        case = Case.objects.create(
            number=next_case_number(unit, _today().year),
            unit=unit,
            village=village,
            household=household,
            applicant=applicant,
            kind=kind,
            area=area,
            filed_by=actor,
            handler=None if entrusted else actor,
            entrusted=entrusted,
            entrusted_reason=entrusted_reason if entrusted else "",
        )
        record_event(
            case,
            action="file",
            label="委托申请" if entrusted else "提出申请",
            actor=actor,
            role=role,
            note=entrusted_reason if entrusted else "",
            data={"members": len(parsed)},
        )
        _notify_after_commit(
            staff_with_role(Role.HANDLER, unit_id=unit.pk),
            key=f"case:{case.pk}:filed",
            title=f"新的{case.get_kind_display()}申请待受理：{case.number}",
            url=case_url(case),
        )
    return case


def _refuse_registered_elsewhere(numbers: list[str], *, unit: Unit, actor: User) -> None:
    """Refuse an ID number on another unit's books without naming that unit; audit each hit.

    The clerk learns only that the person is known elsewhere in the county; which unit, and
    who asked, is for the audit log.
    """
    hashes = [keyed_hash(n) for n in numbers]
    elsewhere = {
        hashed: (pk, code)
        for hashed, pk, code in Person.objects.filter(id_hash__in=hashes)
        .exclude(household__unit=unit)
        .values_list("id_hash", "pk", "household__unit__code")
    }
    hits = [i for i, hashed in enumerate(hashes) if hashed in elsewhere]
    for i in hits:
        pk, code = elsewhere[hashes[i]]
        audit.record(
            AuditLog.Action.ACCESS_DENIED,
            user=actor,
            obj=Person(pk=pk),
            detail=f"跨单位查重命中：{_masked_id(numbers[i])}已登记在单位{code}，"
            f"{unit.code}申请录入被拒绝",
        )
    if hits:
        first = hits[0]
        raise Conflict(
            f"身份证号{_masked_id(numbers[first])}在本县其他单位已有在办或在保记录，"
            "不能在本单位重复申请，请与县民政局核实。",
            field=f"members[{first}].id_number",
        )


def _masked_id(number: str) -> str:
    return f"{number[:4]}**********{number[-4:]}"


# --- acceptance ---------------------------------------------------------------------------


def accept(*, actor: User, case: Case, on: date | None = None, version: int | None = None) -> Case:
    """Accept an application: starts the 20-working-day clock (acceptance day not counted)."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        require_transition(case, "accept")
        on = _not_future(on or _today(), field="on", label="受理日期")
        if on < timezone.localtime(case.submitted_at).date():
            raise DomainError("受理日期不能早于申请日期。", field="on")
        due = add_workdays(on, ACCEPTANCE_LIMIT_WORKDAYS)
        before = case.state
        case.accept(on=on, due_date=due.date, provisional=due.provisional)
        case.handler = case.handler or actor
        save_transition(case, "accepted_on", "due_date", "deadline_provisional", "handler")
        record_event(
            case,
            action="accept",
            label="受理",
            actor=actor,
            role=role,
            from_state=before,
            data={"due_date": due.date, "provisional": due.provisional},
        )
        return case


def refuse(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    """Refuse to accept, with the reason given to the applicant."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        require_transition(case, "refuse")
        reason = _required_text(reason, field="reason", label="不予受理理由")
        before = case.state
        case.refuse(reason=reason)
        save_transition(case, "refusal_reason")
        record_event(
            case,
            action="refuse",
            label="不予受理",
            actor=actor,
            role=role,
            from_state=before,
            note=reason,
        )
        _issue_notice(case, actor, "REFUSAL_NOTICE")
        return case


def withdraw(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    """The applicant withdraws (recorded by the handler or the village assistant), before decision."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER, Role.VILLAGE_ASSISTANT)
        require_transition(case, "withdraw")
        reason = _required_text(reason, field="reason", label="撤回理由")
        before = case.state
        case.withdraw(reason=reason)
        save_transition(case, "withdrawal_reason")
        record_event(
            case,
            action="withdraw",
            label="申请人撤回申请",
            actor=actor,
            role=role,
            from_state=before,
            note=reason,
        )
        return case


def record_consent(
    *,
    actor: User,
    case: Case,
    method: str,
    signed_on: date,
    signers: str,
    files: list | tuple = (),
    version: int | None = None,
) -> Case:
    """Record the signed integrity declaration and verification authorization; the case is authorized."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        require_transition(case, "authorize")
        if method not in ApplicantConsent.Method.values:
            raise DomainError("签署方式无效。", field="method")
        _not_future(signed_on, field="signed_on", label="签署日期")
        signers = _required_text(signers, field="signers", label="签署人（申请人及成年家庭成员）")
        if method == ApplicantConsent.Method.SCAN and not files:
            raise DomainError("选择上传扫描件的，请上传签字扫描件。", field="files")
        consent = ApplicantConsent.objects.create(
            case=case, method=method, signed_on=signed_on, signers=signers, recorded_by=actor
        )
        for upload in files:
            _store_file(case, upload=upload, category=FileCategory.CONSENT, actor=actor)
        before = case.state
        case.authorize()
        save_transition(case)
        record_event(
            case,
            action="authorize",
            label="签署诚信声明及核对授权",
            actor=actor,
            role=role,
            from_state=before,
            data={"consent": consent.pk, "method": method, "signers": signers},
        )
        return case


def request_verification(
    *, actor: User, case: Case, note: str = "", version: int | None = None
) -> Case:
    """Entrust the county centre with the household's economic-status check."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        require_transition(case, "request_verification")
        request = VerificationRequest.objects.create(case=case, requested_by=actor, note=note)
        before = case.state
        case.request_verification()
        save_transition(case)
        record_event(
            case,
            action="request_verification",
            label="委托县级核对",
            actor=actor,
            role=role,
            from_state=before,
            note=note,
            data={"request": request.pk},
        )
        _notify_after_commit(
            staff_with_role(Role.VERIFICATION_OFFICER),
            key=f"case:{case.pk}:verification:{request.pk}",
            title=f"新的家庭经济状况核对委托：{case.number}",
            url="/cases/verification/",
        )
        return case


def record_verification_report(
    *,
    actor: User,
    case: Case,
    findings: list[dict[str, str]],
    summary: str,
    disqualifying: bool = False,
    version: int | None = None,
) -> Case:
    """The county verification officer enters the centre's report on the latest request."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.VERIFICATION_OFFICER)
        require_transition(case, "record_verification")
        summary = _required_text(summary, field="summary", label="核对结论")
        if not findings:
            raise DomainError("请填写至少一个部门的核对结果。", field="findings")
        rows = [_finding_row(i, item) for i, item in enumerate(findings)]
        request = case.verification_requests.order_by("-id").first()
        if request is None or hasattr(request, "report"):
            raise Conflict("没有待出具报告的核对委托。", field="state")
        VerificationReport.objects.create(
            request=request,
            officer=actor,
            findings=rows,
            summary=summary,
            disqualifying=disqualifying,
        )
        before = case.state
        case.record_verification()
        save_transition(case)
        record_event(
            case,
            action="verification_report",
            label="录入核对报告",
            actor=actor,
            role=role,
            from_state=before,
            note=summary,
            data={"disqualifying": disqualifying},
        )
        _notify_after_commit(
            [case.handler] if case.handler else [],
            key=f"case:{case.pk}:verified:{request.pk}",
            title=f"核对报告已出具：{case.number}",
            url=case_url(case),
        )
        return case


def _finding_row(i: int, item: dict[str, Any]) -> dict[str, Any]:
    """One agency's finding: its name, whether a record was found, and what (needed if found)."""
    agency, result = str(item.get("agency", "")).strip(), str(item.get("result", "")).strip()
    found = item.get("found")
    if not agency:
        raise DomainError(f"第{i + 1}条核对结果须填写核对部门。", field=f"findings[{i}]")
    if found is True and not result:
        raise DomainError(f"{agency}：发现记录的，须填写发现的情况。", field=f"findings[{i}]")
    if found is None and not result:
        raise DomainError(f"{agency}：请填写核对结果。", field=f"findings[{i}]")
    row: dict[str, Any] = {"agency": agency, "result": result or "未发现相关记录"}
    if found is not None:
        row["found"] = bool(found)
    return row


def assign_agency(
    *, actor: User, case: Case, agency: Unit | None, version: int | None = None
) -> Case:
    """The unit assigns (or unassigns) a third-party agency for the home visit of one case."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        if case.state not in (*CLOCK_STATES, State.SUBMITTED):
            raise Conflict(
                f"案件当前状态为“{case.get_state_display()}”，不能分派入户调查机构。", field="state"
            )
        if agency is not None and agency.kind != UnitKind.AGENCY:
            raise DomainError("所选单位不是第三方社会救助服务机构。", field="agency")
        if case.agency_id is not None:
            for user in staff_with_role(Role.INVESTIGATOR, unit_id=case.agency_id):
                remove_perm("cases.visit_case", user, case)
        case.agency = agency
        _save(case, "agency")
        if agency is not None:
            for user in staff_with_role(Role.INVESTIGATOR, unit_id=agency.pk):
                assign_perm("cases.visit_case", user, case)
        record_event(
            case,
            action="assign_agency",
            label="分派第三方入户调查" if agency else "取消第三方分派",
            actor=actor,
            role=role,
            note=agency.name if agency else "",
        )
        return case


def record_home_visit(
    *,
    actor: User,
    case: Case,
    visited_on: date,
    investigators: list[dict[str, str]],
    findings: str,
    living_conditions: str = "",
    photos: list | tuple = (),
    version: int | None = None,
) -> Case:
    """Record the home visit: at least the county's minimum of investigators, findings and photos."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER, Role.INVESTIGATOR)
        require_transition(case, "record_visit")
        _not_future(visited_on, field="visited_on", label="调查日期")
        if case.accepted_on and visited_on < case.accepted_on:
            raise DomainError("调查日期不能早于受理日期。", field="visited_on")
        rules = CountyRules.in_force(visited_on)
        named = [i for i in investigators if str(i.get("name", "")).strip()]
        if len(named) < rules.minimum_investigators:
            raise DomainError(
                f"入户调查须至少{rules.minimum_investigators}名调查人员，现有{len(named)}名。",
                field="investigators",
                missing=[f"还差{rules.minimum_investigators - len(named)}名调查人员"],
            )
        findings = _required_text(findings, field="findings", label="调查情况")
        visit = HomeVisit.objects.create(
            case=case,
            visited_on=visited_on,
            investigators=[{"name": i["name"].strip(), "kind": i.get("kind", "")} for i in named],
            findings=findings,
            living_conditions=living_conditions,
            agency=case.agency if role == Role.INVESTIGATOR else None,
            recorded_by=actor,
        )
        for upload in photos:
            _store_file(case, upload=upload, category=FileCategory.PHOTO, actor=actor)
        before = case.state
        case.record_visit()
        save_transition(case)
        record_event(
            case,
            action="home_visit",
            label="入户调查",
            actor=actor,
            role=role,
            from_state=before,
            note=findings,
            data={"visit": visit.pk, "photos": len(photos)},
        )
        return case


def record_appraisal(
    *,
    actor: User,
    case: Case,
    held_on: date,
    attendees: int,
    minutes: str,
    result: str,
    minutes_file=None,
    version: int | None = None,
) -> Case:
    """Record a village democratic appraisal (optional), held after the visit and before assessment."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        if case.state not in (State.VISITED, State.ASSESSED):
            raise Conflict(
                f"案件当前状态为“{case.get_state_display()}”，民主评议应在入户调查后、公示前进行。",
                field="state",
            )
        _not_future(held_on, field="held_on", label="评议日期")
        if int(attendees) < 1:
            raise DomainError("参加人数应至少为1。", field="attendees")
        minutes = _required_text(minutes, field="minutes", label="会议记录")
        result = _required_text(result, field="result", label="评议结果")
        appraisal = DemocraticAppraisal.objects.create(
            case=case,
            held_on=held_on,
            attendees=attendees,
            minutes=minutes,
            result=result,
            recorded_by=actor,
        )
        if minutes_file is not None:
            _store_file(case, upload=minutes_file, category=FileCategory.MINUTES, actor=actor)
        _save(case)
        record_event(
            case,
            action="appraisal",
            label="民主评议",
            actor=actor,
            role=role,
            note=result,
            data={"appraisal": appraisal.pk},
        )
        return case


def assess(
    *,
    actor: User,
    case: Case,
    basis_date: date | None = None,
    care_unmet: int | None = None,
    care_indicators: list[str] | None = None,
    period_months: int | None = None,
    period_reason: str = "",
    version: int | None = None,
) -> IncomeAssessment:
    """Calculate income against the standard in force and store it with its working.

    The period is the county's setting unless the handler chooses the other (6 or 12 months)
    with a reason. Tekun care follows the six daily-living indicators not met
    (`care_indicators`, or their count `care_unmet`). A new assessment changes what was signed:
    any still-valid chain signature is voided.
    """
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        require_transition(case, "assess")
        basis = _not_future(basis_date or _today(), field="basis_date", label="核算基准日")
        if case.kind == Kind.TEKUN:
            if care_indicators is not None:
                unknown = set(care_indicators) - set(calc.DAILY_LIVING_LABELS)
                if unknown:
                    raise DomainError("生活自理能力指标无效。", field="care_indicators")
                care_unmet = len(set(care_indicators))
            if care_unmet is None:
                raise DomainError(
                    "特困供养须勾选生活自理能力六项指标中未达到的项目（全部达到的请勾选“六项均能自理”）。",
                    field="care_indicators",
                )
            if not 0 <= int(care_unmet) <= calc.DAILY_LIVING_INDICATORS:
                raise DomainError("未达到的指标项数应在0到6之间。", field="care_indicators")
        rules = CountyRules.in_force(basis)
        period, period_reason = _assessment_period(rules, period_months, period_reason)
        try:
            result, standard = calc.gather(
                case=case,
                basis=basis,
                rules=rules,
                care_unmet=care_unmet,
                period=period,
                period_reason=period_reason,
                care_unmet_indicators=[
                    code for code, _label in calc.DAILY_LIVING_CHOICES if code in care_indicators
                ]
                if care_indicators is not None
                else None,
            )
        except calc.MissingStandard as exc:
            raise DomainError(
                f"{basis:%Y-%m-%d}没有生效的保障标准（{StandardKind(exc.args[0]).label}，{case.get_area_display()}），请县民政局先维护标准。",
                field="basis_date",
            ) from None
        record = IncomeAssessment.objects.create(
            case=case,
            basis_date=basis,
            period_months=result.period_months,
            household_size=result.household_size,
            total_monthly_income=result.total_monthly_income.quantize(calc.CENT),
            exempt_monthly_income=result.exempt_monthly_income.quantize(calc.CENT),
            counted_monthly_income=result.counted_monthly_income.quantize(calc.CENT),
            per_capita_income=result.per_capita_income.quantize(Decimal("0.0001")),
            standard=standard,
            standard_amount=standard.amount,
            care_tier=result.care_tier,
            care_amount=result.care_amount,
            eligible=result.eligible,
            amount=result.amount,
            working=result.working(),
            assessed_by=actor,
        )
        voided = void_signatures(case, steps=CHAIN_STEPS, reason="收入核算已重新进行")
        before = case.state
        case.assess(amount=result.amount, care_tier=result.care_tier)
        save_transition(case, "monthly_amount", "care_tier")
        record_event(
            case,
            action="assess",
            label="收入核算",
            actor=actor,
            role=role,
            from_state=before,
            data={
                "assessment": record.pk,
                "eligible": result.eligible,
                "amount": result.amount,
                "voided_signatures": voided,
            },
        )
        return record


def _assessment_period(rules: CountyRules, chosen: int | None, reason: str) -> tuple[int, str]:
    """The county's period, or the other of 6 and 12 months when the handler gives a reason."""
    setting = rules.assessment_months
    if chosen is None or int(chosen) == setting:
        return setting, ""
    if int(chosen) not in calc.PERIOD_CHOICES:
        raise DomainError("收入核算期只能选择6个月或12个月。", field="period_months")
    reason = _required_text(
        reason, field="period_reason", label=f"不按县定{setting}个月核算期的理由"
    )
    return int(chosen), reason


def publish(
    *, actor: User, case: Case, starts_on: date, location: str, version: int | None = None
) -> Publicity:
    """Post the publicity in the village for the county's publicity days.

    Publicity runs `publicity_days` full calendar days counting the posting day:
    posted on the 1st with 7 days, it ends on the 7th, and the proposal may follow from the 8th.
    """
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        require_transition(case, "publish")
        if facts_changed_after_assessment(case):
            raise Conflict(
                "家庭信息在收入核算后已更正，请先重新进行收入核算再公示。", field="state"
            )
        if ineligible.ineligibility(case) is not None:
            raise DomainError(
                "收入核算或核对结果为不符合保障条件，不予公示（公示只列拟纳入保障的家庭）；"
                "请直接提出不予保障意见。",
                field="starts_on",
            )
        _not_future(starts_on, field="starts_on", label="公示开始日期")
        assessment = case.assessments.order_by("-id").first()
        if assessment and starts_on < timezone.localtime(assessment.assessed_at).date():
            raise DomainError("公示开始日期不能早于收入核算日期。", field="starts_on")
        location = _required_text(location, field="location", label="张贴地点")
        days = CountyRules.in_force(starts_on).publicity_days
        publicity = Publicity.objects.create(
            case=case,
            starts_on=starts_on,
            ends_on=starts_on + timedelta(days=days - 1),
            location=location,
            posted_by=actor,
        )
        before = case.state
        case.publish()
        save_transition(case)
        record_event(
            case,
            action="publish",
            label="审核确认公示",
            actor=actor,
            role=role,
            from_state=before,
            data={
                "starts_on": publicity.starts_on,
                "ends_on": publicity.ends_on,
                "location": location,
            },
        )
        return publicity


def record_objection(
    *,
    actor: User,
    case: Case,
    received_on: date,
    content: str,
    raised_by: str = "",
    version: int | None = None,
) -> Objection:
    """Record an objection received during publicity."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER, Role.VILLAGE_ASSISTANT)
        if case.state != State.IN_PUBLICITY:
            raise Conflict(
                f"案件当前状态为“{case.get_state_display()}”，只能在公示期间登记异议。",
                field="state",
            )
        _not_future(received_on, field="received_on", label="收到日期")
        content = _required_text(content, field="content", label="异议内容")
        publicity = case.publicities.order_by("-id").first()
        if received_on < publicity.starts_on:
            raise DomainError("收到日期不能早于公示开始日期。", field="received_on")
        objection = Objection.objects.create(
            publicity=publicity,
            received_on=received_on,
            content=content,
            raised_by=raised_by,
            recorded_by=actor,
        )
        _save(case)
        record_event(
            case,
            action="objection",
            label="登记公示异议",
            actor=actor,
            role=role,
            note=content,
            data={"objection": objection.pk},
        )
        return objection


def resolve_objection(
    *,
    actor: User,
    case: Case,
    objection_id: int,
    substantiated: bool,
    resolution: str,
    version: int | None = None,
) -> Case:
    """Record the finding on an objection; a substantiated one sends the case back to home visit."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        objection = Objection.objects.filter(pk=objection_id, publicity__case=case).first()
        if objection is None:
            raise DomainError("未找到该异议。", field="objection_id")
        if objection.substantiated is not None:
            raise Conflict("该异议已有核实结论，不能再次修改。", field="objection_id")
        if substantiated:
            require_transition(case, "reopen_visit")
        resolution = _required_text(resolution, field="resolution", label="核实结论")
        objection.substantiated = substantiated
        objection.resolution = resolution
        objection.resolved_by = actor
        objection.resolved_at = timezone.now()
        objection.save(update_fields=["substantiated", "resolution", "resolved_by", "resolved_at"])
        before = case.state
        if substantiated:
            voided = void_signatures(case, steps=CHAIN_STEPS, reason="公示异议成立，重新入户调查")
            case.reopen_visit()
            save_transition(case)
        else:
            voided = 0
            _save(case)
        record_event(
            case,
            action="objection_resolved",
            label="异议成立，退回重新入户调查" if substantiated else "异议不成立",
            actor=actor,
            role=role,
            from_state=before,
            note=resolution,
            data={
                "objection": objection.pk,
                "substantiated": substantiated,
                "voided_signatures": voided,
            },
        )
        return case


def proposal_missing(
    case: Case, *, today: date | None = None, without_publicity: bool = False
) -> list[str]:
    """Everything that must be in place before the handler may propose."""
    today = today or _today()
    missing = []
    publicity = case.publicities.order_by("-id").first()
    if without_publicity:
        pass
    elif publicity is None:
        missing.append("审核确认公示")
    elif today <= publicity.ends_on:
        missing.append(f"公示期未满（{publicity.ends_on:%Y-%m-%d}结束，次日起方可提出意见）")
    if publicity and publicity.objections.filter(substantiated__isnull=True).exists():
        missing.append("公示异议尚未核实")
    if not case.assessments.exists():
        missing.append("收入核算")
    elif facts_changed_after_assessment(case):
        missing.append("家庭信息更正后的重新收入核算")
    if not case.home_visits.exists():
        missing.append("入户调查记录")
    missing += [f"申报材料：{name}" for name in materials_missing(case)]
    return missing


def propose(
    *,
    actor: User,
    case: Case,
    outcome: str,
    text: str = "",
    otp_token: str = "",
    version: int | None = None,
) -> Case:
    """The handler proposes approval or rejection and signs it, after publicity has run its days."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        require_transition(case, "propose")
        if outcome not in Outcome.values:
            raise DomainError("请选择审核意见：批准或不予保障。", field="outcome")
        without_publicity = case.state == State.ASSESSED
        if without_publicity and outcome == Outcome.APPROVE:
            raise DomainError(
                "拟批准的家庭须先经审核确认公示，公示期满后再提出批准意见。", field="outcome"
            )
        if without_publicity and not ineligible.may_skip_publicity(case):
            raise DomainError(
                "收入核算结果为符合条件，须先公示；不经公示直接不予保障仅适用于核算或核对"
                "结果不符合保障条件的家庭。",
                field="outcome",
            )
        _refuse_missing(
            "尚不能提出审核意见，缺少",
            proposal_missing(case, without_publicity=without_publicity),
        )
        _check_outcome(case, outcome)
        if outcome == Outcome.REJECT:
            text = _required_text(text, field="text", label="不予保障的理由")
        before = case.state
        case.propose(outcome=outcome)
        save_transition(case, "outcome")
        signature = sign(
            case,
            step=SignatureStep.PROPOSAL,
            signer=actor,
            role=role,
            opinion=Opinion.AGREE,
            text=text,
            otp_token=otp_token,
        )
        record_event(
            case,
            action="propose",
            label="经办人提出审核意见",
            actor=actor,
            role=role,
            from_state=before,
            note=text,
            data={"outcome": outcome, "signature": signature.pk},
        )
        _notify_after_commit(
            staff_with_role(Role.DIRECT_RESPONSIBLE, unit_id=case.unit_id),
            key=f"case:{case.pk}:proposed:{signature.pk}",
            title=f"待签署审核意见：{case.number}",
            url=case_url(case),
        )
        return case


def _check_outcome(case: Case, outcome: str) -> None:
    if outcome != Outcome.APPROVE:
        return
    latest = case.assessments.order_by("-id").first()
    if latest is not None and not latest.eligible:
        raise DomainError("收入核算结果为不符合条件，不能提出批准意见。", field="outcome")
    report = VerificationReport.objects.filter(request__case=case).order_by("-id").first()
    if report is not None and report.disqualifying:
        raise DomainError("核对报告显示存在不符合条件的收入或财产，不能批准。", field="outcome")


def _refuse_second_signature(case: Case, actor: User) -> None:
    # 谁签字，谁负责: one person may not sign two steps of the same chain.
    if valid_signatures(case, *CHAIN_STEPS).filter(signer=actor).exists():
        raise NotAllowed("您已在本案件的签署链中签字，不能再签署下一环节。")


def sign_opinion(
    *,
    actor: User,
    case: Case,
    opinion: str,
    text: str = "",
    otp_token: str = "",
    version: int | None = None,
) -> Case:
    """The direct-responsible leader agrees, or disagrees with reasons and sends the case back."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.DIRECT_RESPONSIBLE)
        require_transition(case, "sign_opinion")
        _refuse_second_signature(case, actor)
        if opinion not in Opinion.values:
            raise DomainError("请选择同意或不同意。", field="opinion")
        if opinion == Opinion.DISAGREE:
            text = _required_text(text, field="text", label="不同意的理由")
        signature = sign(
            case,
            step=SignatureStep.OPINION,
            signer=actor,
            role=role,
            opinion=opinion,
            text=text,
            otp_token=otp_token,
        )
        before = case.state
        if opinion == Opinion.AGREE:
            case.sign_opinion()
            save_transition(case)
            label, recipients, step_role = "分管领导签署同意意见", Role.FIRST_RESPONSIBLE, "opinion"
        else:
            void_signatures(case, steps=CHAIN_STEPS, reason=f"分管领导不同意：{text}")
            case.send_back()
            save_transition(case, "outcome")
            label, recipients, step_role = "分管领导不同意，退回经办人", Role.HANDLER, "sent_back"
        record_event(
            case,
            action="sign_opinion" if opinion == Opinion.AGREE else "send_back",
            label=label,
            actor=actor,
            role=role,
            from_state=before,
            note=text,
            data={"opinion": opinion, "signature": signature.pk},
        )
        _notify_after_commit(
            staff_with_role(recipients, unit_id=case.unit_id),
            key=f"case:{case.pk}:{step_role}:{signature.pk}",
            title=f"{label}：{case.number}",
            url=case_url(case),
        )
        return case


def confirm(
    *,
    actor: User,
    case: Case,
    outcome: str,
    reason: str = "",
    text: str = "",
    otp_token: str = "",
    version: int | None = None,
) -> Case:
    """The first-responsible leader signs the decision: approve, or reject with reasons."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.FIRST_RESPONSIBLE)
        require_transition(case, "confirm")
        _refuse_second_signature(case, actor)
        if outcome not in Outcome.values:
            raise DomainError("请选择审核确认结果：批准或不予保障。", field="outcome")
        if outcome == Outcome.REJECT:
            reason = _required_text(reason, field="reason", label="不予保障的理由")
        _check_outcome(case, outcome)
        today = _today()
        on_time = case.due_date is None or today <= case.due_date
        before = case.state
        case.confirm(outcome=outcome, on=today, on_time=on_time, reason=reason)
        save_transition(case, "outcome", "decided_on", "decided_on_time", "rejection_reason")
        signature = sign(
            case,
            step=SignatureStep.DECISION,
            signer=actor,
            role=role,
            opinion=Opinion.AGREE,
            text=text or reason,
            otp_token=otp_token,
        )
        record_event(
            case,
            action="confirm",
            label="第一责任人审核确认",
            actor=actor,
            role=role,
            from_state=before,
            note=reason or text,
            data={"outcome": outcome, "on_time": on_time, "signature": signature.pk},
        )
        due = ineligible.notice_due(case)
        _notify_after_commit(
            [case.handler] if case.handler else [],
            key=f"case:{case.pk}:confirmed",
            title=f"已审核确认（{outcome_words(case.kind, outcome)}），请出具文书"
            + (f"（{due:%Y-%m-%d}前）" if due else "")
            + f"：{case.number}",
            url=case_url(case) + "#documents",
        )
        return case


def issue_decision(*, actor: User, case: Case, version: int | None = None) -> Case:
    """Issue the approval decision or the non-approval notice with reasons."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER)
        method = "issue_approval" if case.outcome == Outcome.APPROVE else "issue_rejection"
        require_transition(case, method)
        before = case.state
        due = ineligible.notice_due(case)
        getattr(case, method)()
        save_transition(case)
        record_event(
            case,
            action=method,
            label="出具批准决定书" if method == "issue_approval" else "出具不予保障告知书",
            actor=actor,
            role=role,
            from_state=before,
            data={"notice_due": due, "on_time": _today() <= due} if due else {},
        )
        _issue_decision_document(case, actor)
        return case


def _issue_decision_document(case: Case, actor: User) -> None:
    """The written result is part of the decision: issued in the same transaction, or neither is."""
    approved = case.outcome == Outcome.APPROVE
    _issue_notice(case, actor, "APPROVAL_DECISION" if approved else "REJECTION_NOTICE")


def _issue_notice(case: Case, actor: User, doc_type: str) -> None:
    """Issue the written act (a refusal's notice with its reasons, a decision) with the act."""
    from .documents.services import issue_document  # noqa: PLC0415  (documents builds on these services' records)
    from .models import DocType  # noqa: PLC0415

    issue_document(case=case, doc_type=DocType[doc_type], actor=actor)


def extend(
    *, actor: User, case: Case, reason: str, otp_token: str = "", version: int | None = None
) -> Case:
    """Extend the deadline once by 10 working days, with a reason, signed by the direct-responsible."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.DIRECT_RESPONSIBLE)
        if case.state not in CLOCK_STATES or case.due_date is None:
            raise Conflict(
                f"案件当前状态为“{case.get_state_display()}”，办结期限未在计算中，不能延期。",
                field="state",
            )
        if case.extended:
            raise Conflict("该案件已延期一次，不能再次延期。", field="extended")
        reason = _required_text(reason, field="reason", label="延期理由")
        if _today() > case.due_date:
            raise DomainError(
                f"办结期限（{case.due_date:%Y-%m-%d}）已过，不能再延期。", field="due_date"
            )
        old_due = case.due_date
        new_due = add_workdays(old_due, EXTENSION_WORKDAYS)
        case.due_date = new_due.date
        case.deadline_provisional = case.deadline_provisional or new_due.provisional
        case.extended = True
        case.extension_reason = reason
        _save(case, "due_date", "deadline_provisional", "extended", "extension_reason")
        signature = sign(
            case,
            step=SignatureStep.EXTENSION,
            signer=actor,
            role=role,
            opinion=Opinion.AGREE,
            text=reason,
            otp_token=otp_token,
        )
        record_event(
            case,
            action="extend",
            label="延期10个工作日",
            actor=actor,
            role=role,
            note=reason,
            data={"from": old_due, "to": new_due.date, "signature": signature.pk},
        )
        return case


def terminate(
    *, actor: User, case: Case, reason: str, otp_token: str = "", version: int | None = None
) -> Case:
    """Stop an approved case after review or revocation, signed by the unit head or the county."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.FIRST_RESPONSIBLE, Role.COUNTY_SUPERVISOR)
        require_transition(case, "terminate")
        reason = _required_text(reason, field="reason", label="终止理由")
        before = case.state
        case.terminate(reason=reason)
        save_transition(case, "termination_reason")
        signature = sign(
            case,
            step=SignatureStep.REVOCATION,
            signer=actor,
            role=role,
            opinion=Opinion.AGREE,
            text=reason,
            otp_token=otp_token,
        )
        record_event(
            case,
            action="terminate",
            label="终止救助",
            actor=actor,
            role=role,
            from_state=before,
            note=reason,
            data={"signature": signature.pk},
        )
        return case


def upload_legacy_scan(
    *, actor: User, case: Case, file, requirement: MaterialRequirement | None = None
) -> CaseFile:
    """Attach a scan of an imported case's old paper file, marked as such, whatever its state.

    An imported case was decided on paper before the system: its archive is those papers,
    scanned. Only the unit's handler attaches them; a scan is never replaced in place.
    """
    with locked_case(case.pk) as case:
        if not case.imported:
            raise Conflict("只有存量导入的案件可以补录原纸质档案扫描件。", field="file")
        role = acting_role(actor, case, Role.HANDLER)
        if requirement is not None and requirement.kind != case.kind:
            raise DomainError("该材料不属于本救助类别的清单。", field="requirement")
        stored = _store_file(
            case, upload=file, category=FileCategory.LEGACY, actor=actor, requirement=requirement
        )
        record_event(
            case,
            action="upload_legacy_scan",
            label="补录原纸质档案扫描件",
            actor=actor,
            role=role,
            note=requirement.name if requirement else stored.original_name,
            data={"file": stored.pk, "sha256": stored.sha256},
        )
        return stored


def upload_material(
    *,
    actor: User,
    case: Case,
    file,
    requirement: MaterialRequirement | None = None,
    category: str = FileCategory.MATERIAL,
    version: int | None = None,
) -> CaseFile:
    """Add a file to the case's archive (type checked by content, size limited)."""
    with locked_case(case.pk, expected_version=version) as case:
        role = acting_role(actor, case, Role.HANDLER, Role.VILLAGE_ASSISTANT, Role.INVESTIGATOR)
        if case.state not in OPEN_STATES:
            raise Conflict(
                f"案件当前状态为“{case.get_state_display()}”，档案已封存，不能再上传材料。",
                field="state",
            )
        if category not in FileCategory.values:
            raise DomainError("材料类别无效。", field="category")
        if requirement is not None and requirement.kind != case.kind:
            raise DomainError("该材料不属于本救助类别的清单。", field="requirement")
        stored = _store_file(
            case, upload=file, category=category, actor=actor, requirement=requirement
        )
        _save(case)
        record_event(
            case,
            action="upload",
            label="上传材料",
            actor=actor,
            role=role,
            note=requirement.name if requirement else stored.original_name,
            data={"file": stored.pk, "sha256": stored.sha256},
        )
        return stored
