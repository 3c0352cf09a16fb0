"""Drive cases through the workflow by the API, as the named people of conftest."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from django.core.management import call_command
from django.utils import timezone

from cases.models import Case, MaterialRequirement
from cases.selectors import CODE_SIGNED_STEPS

from ..conftest import needs_code, signing_otp
from ..factories import unique_id_number
from ..files import pdf_bytes, png_bytes

PDF_BYTES = pdf_bytes()
PNG_BYTES = png_bytes(size=(1, 1))


def load_materials() -> None:
    call_command("loaddata", "fixtures/materials.json", verbosity=0)


def pdf_upload(name: str = "scan.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def application(village, *, kind="dibao", income="300", members=2, **extra) -> dict:
    people = [
        {
            "name": "张明东",
            "id_number": unique_id_number(),
            "relation": "head",
            "work_ability": "unable" if kind == "tekun" else "able",
            "incomes": [
                {
                    "kind": "wage",
                    "source": "务工",
                    "monthly_amount": income,
                    "period_start": "2020-01-01",
                }
            ],
        }
    ]
    if members > 1:
        people.append(
            {"name": "李秀英", "id_number": unique_id_number(sex="F"), "relation": "spouse"}
        )
    return {"kind": kind, "village": village.pk, "area": "rural", "members": people, **extra}


class ApiFlow:
    """One API client per person; `later(days)` moves the clock and signs everyone in again."""

    def __init__(self, api, people):
        self.api, self.people, self._clients, self._travellers = api, people, {}, []

    def client(self, user):
        if user.pk not in self._clients:
            self._clients[user.pk] = self.api(user)
        return self._clients[user.pk]

    def later(self, days: int) -> None:
        traveller = time_machine.travel(timezone.now() + timedelta(days=days), tick=True)
        traveller.start()
        self._travellers.append(traveller)
        self._clients.clear()

    def stop(self) -> None:
        for traveller in reversed(self._travellers):
            traveller.stop()

    def file(self, user=None, **kwargs):
        body = application(self.people.village_a, **kwargs)
        return self.client(user or self.people.handler).post("/api/cases/", body, format="json")

    def step(self, user, case_id: int, name: str, **data):
        client = self.client(user)  # sign in first: the sign-in takes the code of the moment
        if name in CODE_SIGNED_STEPS and needs_code(user):
            data.setdefault("otp_token", signing_otp(user))  # a leader's signature takes a code
        return client.post(f"/api/cases/{case_id}/transitions/{name}/", data, format="json")

    def ok(self, user, case_id: int, name: str, **data) -> dict:
        response = self.step(user, case_id, name, **data)
        assert response.status_code == 200, (name, response.json())
        return response.json()

    def upload(self, user, case_id: int, **data):
        return self.client(user).post(f"/api/cases/{case_id}/materials/", data, format="multipart")

    def to_publicity(self, case_id: int, *, kind: str = "dibao") -> dict:
        self.to_assessment(case_id, kind=kind)
        today = timezone.localdate().isoformat()
        return self.ok(
            self.people.handler, case_id, "publish", starts_on=today, location="村委会公示栏"
        )

    def to_assessment(self, case_id: int, *, kind: str = "dibao") -> dict:
        p, today = self.people, timezone.localdate().isoformat()
        self.ok(p.handler, case_id, "accept")
        self.ok(
            p.handler,
            case_id,
            "record_consent",
            method="on_screen",
            signed_on=today,
            signers="张明东、李秀英",
        )
        self.ok(p.handler, case_id, "request_verification", note="请核对")
        self.ok(
            p.verifier,
            case_id,
            "record_verification_report",
            findings=[{"agency": "公安", "result": "无机动车"}],
            summary="未发现不符合条件的财产",
        )
        self.visit(case_id)
        return self.ok(
            p.handler, case_id, "assess", **({"care_unmet": 5} if kind == "tekun" else {})
        )

    def visit(self, case_id: int) -> dict:
        return self.ok(
            self.people.handler,
            case_id,
            "record_home_visit",
            visited_on=timezone.localdate().isoformat(),
            findings="家中无稳定收入",
            investigators=[
                {"name": "李经办", "kind": "staff"},
                {"name": "周协理", "kind": "village"},
            ],
        )

    def upload_materials(self, case_id: int) -> None:
        case = Case.objects.get(pk=case_id)
        for requirement in MaterialRequirement.objects.filter(
            kind=case.kind, required=True, platform_supplied=False
        ):
            response = self.upload(
                self.people.handler, case_id, file=pdf_upload(), requirement=requirement.pk
            )
            assert response.status_code == 201, response.json()

    def sign_off(self, case_id: int, outcome: str = "approve", **confirm) -> dict:
        p = self.people
        self.ok(
            p.handler,
            case_id,
            "propose",
            outcome=outcome,
            text="" if outcome == "approve" else "家庭人均收入高于低保标准",
        )
        self.ok(p.direct, case_id, "sign_opinion", opinion="agree")
        self.ok(p.first, case_id, "confirm", outcome=outcome, **confirm)
        return self.ok(p.handler, case_id, "issue_decision")


def today() -> date:
    return timezone.localdate()
