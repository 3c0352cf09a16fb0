"""Demo cases in different states, made through the real services (never in production).

`seed(context)` is called by `seed_demo`; `seed_cases(unit, village, users)` does one unit.
Cases that must have passed 7 days of publicity are started 10 days in the past with
time-machine (a development dependency); without it they stop in publicity.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, Unit, User, Village
from dengkou_aid.lib.idnumber import make_id_number

from . import services
from .models import Case, Kind, MaterialRequirement

DEMO_NAMES = ["王建国", "李桂兰", "张海燕", "刘志强", "陈秀英", "杨小明", "赵淑珍"]


def seed(context: dict) -> None:
    """Seed demo cases for each demo unit, once (a unit that has cases is left alone)."""
    verifier = User.objects.filter(role_grants__role=Role.VERIFICATION_OFFICER).first()
    for unit in context.get("units", []):
        village = unit.villages.order_by("code").first()
        users = {
            "handler": _holder(unit, Role.HANDLER),
            "direct": _holder(unit, Role.DIRECT_RESPONSIBLE),
            "first": _holder(unit, Role.FIRST_RESPONSIBLE),
            "assistant": User.objects.filter(
                village=village, role_grants__role=Role.VILLAGE_ASSISTANT
            ).first(),
            "verifier": verifier,
        }
        if village is not None and all(users.values()):
            seed_cases(unit, village, users)


def _holder(unit: Unit, role: str) -> User | None:
    return User.objects.filter(unit=unit, role_grants__role=role).order_by("id").first()


def seed_cases(unit: Unit, village: Village, users: dict[str, User]) -> list[Case]:
    """A few cases of one unit, from a fresh entrusted application to an approval."""
    if Case.objects.filter(unit=unit).exists():
        return []
    people = iter(_demo_people(unit))
    h = users["handler"]
    made = [
        services.file_application(
            actor=users["assistant"],
            kind=Kind.DIBAO,
            village=village,
            area="rural",
            members=[next(people)],
            entrusted_reason="申请人年老体弱，行动不便（演示）",
        ),
    ]
    accepted = _file(h, village, Kind.DIBAO, next(people), income="200")
    services.accept(actor=h, case=accepted)
    made.append(accepted)
    with _days_ago(10) as travelled:
        waiting = _file(h, village, Kind.DIBAO, next(people), income="350")
        _to_verification(waiting, users)
        approved = _file(h, village, Kind.DIBAO, next(people), income="300")
        tekun = _file(h, village, Kind.TEKUN, next(people), income="0")
        rejected = _file(h, village, Kind.DIBAO, next(people), income="1200")
        for case, unmet in ((approved, None), (tekun, 4), (rejected, None)):
            _to_publicity(case, users, care_unmet=unmet)
    made += [waiting, approved, tekun, rejected]
    if travelled:
        _sign_off(approved, users, "approve")
        _sign_off(tekun, users, "approve")
        _sign_off(rejected, users, "reject", reason="家庭月人均收入高于低保标准（演示）")
    return made


@contextlib.contextmanager
def _days_ago(days: int):
    try:
        import time_machine
    except ImportError:
        yield False
        return
    with time_machine.travel(timezone.now() - timedelta(days=days), tick=True):
        yield True


def _demo_people(unit: Unit) -> list[dict]:
    offset = int(unit.code[-3:]) % 50
    return [
        {
            "name": name,
            "id_number": make_id_number(
                "150822", date(1950 + offset % 20 + i, 1 + i, 10 + offset % 10), seq=offset * 7 + i
            ),
            "relation": "head",
            "work_ability": "unable",
        }
        for i, name in enumerate(DEMO_NAMES)
    ]


def _file(handler: User, village: Village, kind: str, member: dict, *, income: str) -> Case:
    if Decimal(income):
        member = {
            **member,
            "incomes": [
                {
                    "kind": "transfer",
                    "source": "子女赡养费（演示）",
                    "monthly_amount": Decimal(income),
                    "period_start": date(2020, 1, 1),
                }
            ],
        }
    return services.file_application(
        actor=handler, kind=kind, village=village, area="rural", members=[member]
    )


def _to_verification(case: Case, users: dict[str, User]) -> Case:
    h, today = users["handler"], timezone.localdate()
    case = services.accept(actor=h, case=case)
    case = services.record_consent(
        actor=h, case=case, method="on_screen", signed_on=today, signers=case.applicant.name
    )
    return services.request_verification(actor=h, case=case, note="演示核对委托")


def _to_publicity(case: Case, users: dict[str, User], *, care_unmet: int | None) -> None:
    h, today = users["handler"], timezone.localdate()
    case = _to_verification(case, users)
    case = services.record_verification_report(
        actor=users["verifier"],
        case=case,
        summary="未发现不符合条件的收入和财产（演示）",
        findings=[
            {"agency": "公安", "result": "无机动车"},
            {"agency": "不动产", "result": "无房产"},
        ],
    )
    case = services.record_home_visit(
        actor=h,
        case=case,
        visited_on=today,
        findings="家中无劳动力，生活困难（演示）",
        investigators=[
            {"name": h.full_name, "kind": "staff"},
            {"name": users["assistant"].full_name, "kind": "village"},
        ],
    )
    record = services.assess(actor=h, case=case, care_unmet=care_unmet)
    if record.eligible:
        # An ineligible household is never published; it goes to non-approval directly.
        services.publish(actor=h, case=case, starts_on=today, location="村委会公示栏（演示）")
    for requirement in MaterialRequirement.objects.filter(
        kind=case.kind, required=True, platform_supplied=False
    ):
        services.upload_material(actor=h, case=case, file=_demo_pdf(), requirement=requirement)


def _sign_off(case: Case, users: dict[str, User], outcome: str, reason: str = "") -> None:
    text = reason if outcome == "reject" else "经审核，符合条件（演示）"
    case = services.propose(actor=users["handler"], case=case, outcome=outcome, text=text)
    direct, first = users["direct"], users["first"]
    case = services.sign_opinion(
        actor=direct, case=case, opinion="agree", otp_token=_demo_code(direct)
    )
    case = services.confirm(
        actor=first, case=case, outcome=outcome, reason=reason, otp_token=_demo_code(first)
    )
    services.issue_decision(actor=users["handler"], case=case)
    # The leaders may sign in with their phone's code straight after the seeding.
    TOTPDevice.objects.filter(user__in=(direct, first), confirmed=True).update(last_t=-1)


def _demo_code(user: User) -> str:
    """The demo leader's one-time code, as their phone would show it for this signature.

    Demo tokens share a public key; the device forgets its last code so each demo signature
    in the same 30 seconds takes one (a real leader waits for the next code).
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return ""
    device.last_t = -1
    device.save(update_fields=["last_t"])
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


def _demo_pdf():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from pypdf import PdfWriter

    # A real one-page PDF: uploads must open with pypdf.
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile("demo.pdf", buffer.getvalue(), content_type="application/pdf")
