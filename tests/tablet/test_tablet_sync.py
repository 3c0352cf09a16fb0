"""The tablet's drafts reach the server once per key, are checked as online forms are, and never
overwrite a household that changed meanwhile; the server's clock stamps them."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test import Client

from cases.models import Case
from cases.tablet.models import GlassSignature, SyncState, TabletSync
from cases.tablet.selectors import household_version
from disbursement.models import ChangeReport

from ..factories import unique_id_number
from .conftest import application_draft, drawing

APPLICATIONS = "/tablet/api/applications/"
CHANGE_REPORTS = "/tablet/api/change-reports/"


def test_a_draft_sent_three_times_makes_one_case_and_the_same_answer(people, tablet):
    client = tablet(people.assistant)
    draft = application_draft(people.village_a)
    answers = [client.post_draft(APPLICATIONS, draft) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert Case.objects.count() == 1
    assert len({a.json()["result"]["number"] for a in answers}) == 1
    receipt = TabletSync.objects.get()
    assert (receipt.state, receipt.attempts) == (SyncState.ACCEPTED, 3)
    assert GlassSignature.objects.filter(case=Case.objects.get()).count() == 2


def test_the_server_clock_stamps_a_draft_and_the_device_clock_is_only_a_note(people, tablet):
    with time_machine.travel("2026-12-07 09:30 +08:00", tick=False):
        answer = tablet(people.assistant).post_draft(
            APPLICATIONS, application_draft(people.village_a)
        )
    assert answer.json()["accepted_at"].startswith("2026-12-07T09:30")
    receipt = TabletSync.objects.get()
    assert receipt.device_made_at == "2020-01-01T08:00:00"
    assert Case.objects.get().submitted_at.year == 2026
    signature = GlassSignature.objects.first()
    assert signature.signed_at.year == 2026 and signature.device_signed_at.startswith("2020")


def test_a_signature_keeps_its_image_the_text_shown_and_their_hashes(people, tablet):
    tablet(people.assistant).post_draft(APPLICATIONS, application_draft(people.village_a))
    signature = GlassSignature.objects.get(person_name="张三")
    assert bytes(signature.image)[:8] == b"\x89PNG\r\n\x1a\n"
    assert signature.text_hash == GlassSignature.sha256(signature.document_text)
    assert signature.image_hash == GlassSignature.sha256(bytes(signature.image))
    assert signature.signer == people.assistant and signature.person.name == "张三"


def test_a_single_dot_or_a_missing_signature_is_refused_and_nothing_is_filed(people, tablet):
    client = tablet(people.assistant)
    dot = application_draft(people.village_a)
    dot["payload"]["signatures"][1]["image"] = drawing(dot=True)
    answer = client.post_draft(APPLICATIONS, dot)
    assert answer.status_code == 400
    assert answer.json()["message"] == "李梅的签字过短（只有一个点），请重新签字。"
    missing = application_draft(people.village_a)
    missing["payload"]["signatures"] = missing["payload"]["signatures"][:1]
    assert client.post_draft(APPLICATIONS, missing).json()["message"] == "李梅尚未签字。"
    assert not Case.objects.exists()


def test_a_refused_draft_can_come_again_under_its_key_once_fixed(people, tablet):
    client = tablet(people.assistant)
    key = uuid.uuid4()
    bad = application_draft(people.village_a, key=key, entrusted_reason="")
    answer = client.post_draft(APPLICATIONS, bad)
    assert answer.status_code == 400 and "委托申请原因" in answer.json()["message"]
    fixed = application_draft(people.village_a, key=key)
    assert client.post_draft(APPLICATIONS, fixed).json()["state"] == SyncState.ACCEPTED
    assert Case.objects.count() == 1


def test_a_draft_for_a_village_the_assistant_no_longer_serves_is_refused(people, tablet):
    client = tablet(people.assistant)
    answer = client.post_draft(APPLICATIONS, application_draft(people.village_b))
    assert answer.status_code == 403
    assert "您已不再负责该嘎查村/社区" in answer.json()["message"]
    assert not Case.objects.exists()


def test_a_changed_text_of_the_declaration_is_refused(people, tablet):
    draft = application_draft(people.village_a, consent_text="别的内容")
    answer = tablet(people.assistant).post_draft(APPLICATIONS, draft)
    assert answer.json()["message"] == "签字时显示的文书内容与服务器版本不一致，请重新签字。"


def test_a_signed_out_tablet_is_told_to_sign_in_again_and_nothing_is_filed(people):
    client = Client(enforce_csrf_checks=False)
    answer = client.post(
        APPLICATIONS, application_draft(people.village_a), content_type="application/json"
    )
    assert answer.status_code == 401
    assert "请重新登录" in answer.json()["message"]


def test_another_users_key_is_not_replayed(people, tablet, client):
    draft = application_draft(people.village_a)
    tablet(people.assistant).post_draft(APPLICATIONS, draft)
    client.logout()
    other = tablet(people.handler)
    assert other.post_draft(APPLICATIONS, draft).status_code == 403  # not an assistant


def test_a_change_report_on_the_household_as_seen_is_filed_once(people, tablet, paid):
    case = paid()
    reference = tablet(people.assistant).get("/tablet/api/reference/").json()
    (household,) = reference["households"]
    assert "*" in household["members"][0]["masked_id"]
    draft = {
        "key": str(uuid.uuid4()),
        "payload": {
            "household": case.household_id,
            "kind": "new_job",
            "details": "户主在镇上超市务工",
            "base_version": household["version"],
        },
    }
    client = tablet(people.assistant)
    assert [client.post_draft(CHANGE_REPORTS, draft).status_code for _ in range(3)] == [200] * 3
    assert ChangeReport.objects.count() == 1


def test_a_change_report_on_a_household_changed_meanwhile_is_a_conflict(people, tablet, paid):
    case = paid()
    seen = household_version(case.household)
    head = case.household.members.order_by("id").first()
    head.name = "改名后"
    head.save(update_fields=["name"])
    draft = {
        "key": str(uuid.uuid4()),
        "payload": {
            "household": case.household_id,
            "kind": "new_job",
            "details": "户主在镇上超市务工",
            "base_version": seen,
        },
    }
    client = tablet(people.assistant)
    answer = client.post_draft(CHANGE_REPORTS, draft)
    assert answer.status_code == 409
    body = answer.json()
    assert body["state"] == SyncState.CONFLICT and "已在服务器上变更" in body["message"]
    assert any(value.startswith("改名后（户主）") for _, value in body["result"]["current"])
    assert not ChangeReport.objects.exists()
    # The assistant checks the changes and resubmits on the current version: filed once.
    draft["payload"]["base_version"] = body["result"]["version"]
    assert client.post_draft(CHANGE_REPORTS, draft).status_code == 200
    assert ChangeReport.objects.count() == 1


def test_a_signature_drawn_on_the_glass_is_never_changed_or_deleted(people, tablet):
    tablet(people.assistant).post_draft(APPLICATIONS, application_draft(people.village_a))
    signature = GlassSignature.objects.first()
    with pytest.raises(PermissionDenied):
        signature.save()
    with pytest.raises(PermissionDenied):
        signature.delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_glasssignature SET person_name = '篡改'")
    assert GlassSignature.objects.filter(person_name="篡改").count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_retries_arriving_at_once_make_one_case(people, login):
    draft = application_draft(people.village_a)
    clients = []
    for _ in range(2):
        client = Client()
        login(people.assistant, client)
        clients.append((client, client.get("/tablet/api/session/").json()["csrf"]))

    def send(pair):
        client, token = pair
        try:
            return client.post(
                APPLICATIONS, draft, content_type="application/json", HTTP_X_CSRFTOKEN=token
            ).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = list(pool.map(send, clients))
    assert codes == [200, 200]
    assert Case.objects.count() == 1
    assert TabletSync.objects.get().attempts == 2


def test_who_must_sign_is_read_from_the_id_numbers_not_from_the_device(people, tablet):
    client = tablet(people.assistant)
    draft = application_draft(people.village_a, names=("张三",))
    child = {
        "name": "张小宝",
        "id_number": unique_id_number(date(2016, 5, 1)),
        "relation": "child",
        "adult": True,  # the device thought so; a child of ten signs nothing
    }
    draft["payload"]["members"].append(child)
    assert client.post_draft(APPLICATIONS, draft).json()["state"] == SyncState.ACCEPTED
    assert list(GlassSignature.objects.values_list("person_name", flat=True)) == ["张三"]

    spouse = application_draft(people.village_a)
    spouse["payload"]["members"][1]["adult"] = False  # an adult marked a minor on the device
    spouse["payload"]["signatures"] = spouse["payload"]["signatures"][:1]
    assert client.post_draft(APPLICATIONS, spouse).json()["message"] == "李梅尚未签字。"
