"""The preview: counts of what would be created or updated, every bad row with its reason, nothing written."""

from __future__ import annotations

from decimal import Decimal

from cases.models import Case, Household, Person
from disbursement.imports.preview import check_caseload
from disbursement.models import ImportBatch

from ..factories import PersonFactory, unique_id_number
from .conftest import csv_file, household, latest_batch, row, upload, xlsx_file


def good_and_bad_rows(people):
    """Two good households (3 + 1 members), then one bad row of each kind the clerk must fix."""
    elsewhere = PersonFactory(household__village=people.village_b)
    twice = unique_id_number()
    return [
        *household("H1", 3, amount="1500"),  # lines 2-4
        row("H2", amount="600"),  # line 5
        row("H3", id_number="150822198001010111"),  # line 6: wrong check digit
        row("H4", village="不存在的村"),  # line 7
        row("H5", unit="150822999"),  # line 8
        row("H6", size=2, relation="户主"),  # line 9
        row("H6", size=3, relation="子女", account=""),  # line 10: disagrees on size
        row("H7", amount="700"),  # line 11: above 670 × 1
        row("H8", account=""),  # line 12: no account
        row("H9", kind="特困", tier="全护理", amount="2300"),  # line 13: above 1020 + 1266
        row("H10", id_number=elsewhere.id_number),  # line 14: already in unit B
        row("H11", id_number=twice),  # line 15
        row("H12", id_number=twice),  # line 16: same person in two households
    ]


def test_the_preview_counts_good_households_and_lists_every_bad_row(caseload):
    check = check_caseload(csv_file(good_and_bad_rows(caseload)), scope=caseload.unit_a)

    counts = check.counts()
    assert counts["households_create"] == 3  # H1, H2 and H11 (its first row was fine)
    assert counts["members_create"] == 5
    assert counts["households_update"] == 0
    assert counts["bad_rows"] == 6  # and three households outside the rules (H7, H8, H9)
    assert check.error_total == 9
    reasons = {e["line"]: e["reason"] for e in check.errors}
    assert "校验位" in reasons[6]
    assert "没有嘎查村/社区“不存在的村”" in reasons[7]
    assert "单位代码“150822999”" in reasons[8]
    assert "家庭人口与本户第9行不一致" in reasons[10]
    assert "超出低保范围" in reasons[11]
    assert "缺少发放账号" in reasons[12]
    assert "超出特困供养范围" in reasons[13]
    assert "已在其他单位（隆盛合镇）" in reasons[14]
    assert "另一户中重复出现" in reasons[16]


def test_a_household_with_a_bad_row_is_held_back_whole(caseload):
    rows = [*household("H1", 2), row("H1", size=2, id_number="123", relation="子女", account="")]
    check = check_caseload(csv_file(rows), scope=caseload.unit_a)

    assert check.counts()["households_create"] == 0
    assert check.counts()["households_held_back"] == 1


def test_uploading_shows_the_preview_and_writes_nothing(caseload, login):
    client = login(caseload.handler)
    response = upload(client, "caseload", csv_file(good_and_bad_rows(caseload)))

    assert response.status_code == 200
    page = response.content.decode()
    assert "3 户，5 名成员" in page
    assert "超出低保范围" in page
    batch = latest_batch()
    assert batch.state == ImportBatch.State.PREVIEWED
    assert batch.error_total == 9
    assert not Household.objects.filter(unit=caseload.unit_a).exists()
    assert not Case.objects.exists()
    assert Person.objects.count() == 1  # only the person of unit B made by the test


def test_a_gbk_csv_previews_like_a_utf8_one(caseload):
    rows = [*household("H1", 2, name="乌日娜"), row("H2", name="额尔敦毕力格")]
    check = check_caseload(csv_file(rows, encoding="gbk"), scope=caseload.unit_a)

    assert check.errors == []
    assert check.counts()["households_create"] == 2


def test_an_xlsx_file_previews_too(caseload):
    check = check_caseload(xlsx_file(household("H1", 2)), scope=caseload.unit_a)

    assert check.errors == []
    assert check.counts()["members_create"] == 2


def test_the_downloaded_template_previews_without_errors(caseload, login):
    client = login(caseload.handler)
    for fmt in ("xlsx", "csv"):
        response = client.get(f"/imports/template/caseload.{fmt}")
        assert response.status_code == 200
        import io

        check = check_caseload(io.BytesIO(response.content), scope=caseload.unit_a)
        assert check.errors == [], fmt
        assert check.counts()["households_create"] == 1


def test_more_bad_rows_each_with_its_line_and_reason(caseload):
    """Reasons the first file does not show: each row is refused alone, the good one still counts."""
    same_unit = PersonFactory(household__village=caseload.village_a)
    rows = [
        row("H1", size=2, amount="1200"),  # line 2
        row("H1", size=2, amount="1300", relation="子女", account=""),  # line 3: amount differs
        row("H2", id_number=same_unit.id_number),  # line 4: already in another household of A
        row("H3", kind="低保边缘", amount="700"),  # line 5: above 670 × 1
        row("H4", account="6228480040012345671"),  # line 6: card fails the Luhn check
        row("H5", amount="600"),  # line 7: good
    ]
    check = check_caseload(csv_file(rows), scope=caseload.unit_a)

    reasons = {e["line"]: e["reason"] for e in check.errors}
    assert sorted(reasons) == [3, 4, 5, 6]
    assert "月救助金额与本户第2行不一致（1300.00≠1200.00）" in reasons[3]
    assert reasons[4] == (
        f"公民身份号码已在本单位另一户（户编号系统编号{same_unit.household_id}）中"
    )
    assert "户编号H3" in reasons[5]
    assert "超出低保边缘家庭范围（不超过670" in reasons[5]
    assert "发放账号无效：银行卡号校验位不正确" in reasons[6]
    counts = check.counts()
    assert counts["households_create"] == 1  # H5 only
    assert counts["households_held_back"] == 4
    assert check.error_total == 4


def test_a_marginal_amount_up_to_the_ceiling_is_accepted(caseload):
    rows = [*household("H1", 2, kind="低保边缘", amount="1340")]  # 670 × 2, the ceiling itself
    check = check_caseload(csv_file(rows), scope=caseload.unit_a)

    assert check.errors == []
    assert check.counts()["households_create"] == 1


def test_the_preview_of_a_later_file_counts_the_households_it_would_update(caseload):
    import io

    from disbursement.imports.write import import_caseload

    first = [*household("H1", 2, amount="1200"), row("H2", amount="600")]
    data = csv_file(first).getvalue()
    import_caseload(
        open_source=lambda: io.BytesIO(data),
        file_name="caseload.csv",
        sha256="test",
        batch_id=None,
        scope=caseload.unit_a,
        actor=caseload.handler,
    )
    h1 = first[:2]
    later = [[*r[:9], "1100", *r[10:]] for r in h1] + first[2:]  # H1's amount changes

    check = check_caseload(csv_file(later), scope=caseload.unit_a)

    assert check.errors == []
    counts = check.counts()
    assert counts["households_update"] == 1
    assert counts["households_unchanged"] == 1
    assert counts["households_create"] == 0
    assert counts["members_create"] == 0
    entitlement = Case.objects.get(household__import_key="H1").entitlement
    assert entitlement.monthly_amount == Decimal("1200.00")  # a preview writes nothing
