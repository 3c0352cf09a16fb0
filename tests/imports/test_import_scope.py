"""A township clerk imports for their own unit only; the county administrator for any unit."""

from __future__ import annotations

from cases.models import Household
from disbursement.models import ImportBatch

from .conftest import confirm, csv_file, household, latest_batch, row, upload


def two_units():
    return [
        *household("A1", 2),
        row("B1", unit="150822101", village="样例村B"),
    ]


def test_a_handler_imports_their_own_unit_and_the_other_units_rows_are_refused(caseload, login):
    client = login(caseload.handler)
    page = upload(client, "caseload", csv_file(two_units())).content.decode()

    assert "（隆盛合镇）不是本单位，只能导入本单位的家庭" in page
    confirm(client, latest_batch())
    assert list(Household.objects.values_list("import_key", flat=True)) == ["A1"]


def test_the_county_administrator_imports_for_every_unit(caseload, administrator, login):
    client = login(administrator)
    upload(client, "caseload", csv_file(two_units()))
    confirm(client, latest_batch())

    imported = set(Household.objects.values_list("unit__code", "import_key"))
    assert imported == {("150822100", "A1"), ("150822101", "B1")}
    assert latest_batch().unit is None


def test_a_village_assistant_may_not_import(caseload, login):
    client = login(caseload.assistant)
    response = upload(client, "caseload", csv_file(two_units()))

    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_another_units_handler_cannot_see_or_confirm_the_batch(caseload, login):
    upload(login(caseload.handler), "caseload", csv_file(household("A1", 1)))
    batch = latest_batch()

    from django.test import Client

    outsider = login(caseload.outsider, Client())
    assert outsider.get(f"/imports/{batch.pk}/").status_code == 404
    assert outsider.post(f"/imports/{batch.pk}/confirm/").status_code == 404
    assert outsider.get(f"/imports/{batch.pk}/status.json").status_code == 404
    assert not Household.objects.exists()


def test_the_status_view_reports_the_state_and_progress(caseload, login):
    client = login(caseload.handler)
    upload(client, "caseload", csv_file(household("A1", 1)))

    status = client.get(f"/imports/{latest_batch().pk}/status.json").json()

    assert status == {
        "state": "previewed",
        "state_label": "已预览，待确认导入",
        "progress": 100,
        "done": True,
    }


def test_the_imports_page_offers_each_person_what_they_may_import(caseload, administrator, login):
    from django.test import Client

    handler_page = login(caseload.handler).get("/imports/").content.decode()
    admin_page = login(administrator, Client()).get("/imports/").content.decode()

    assert "在保家庭导入" in handler_page
    assert "/imports/upload/staff/" not in handler_page
    assert "/imports/upload/staff/" in admin_page
    assert "/imports/template/caseload.xlsx" in admin_page
