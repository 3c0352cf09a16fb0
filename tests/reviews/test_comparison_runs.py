"""County comparison runs: match other agencies' rows to members in payment, report the rest."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dengkou_aid.errors import DomainError, NotAllowed
from dengkou_aid.lib.spreadsheets import Sheet, write_xlsx
from disbursement.models import (
    ChangeReport,
    ComparisonFinding,
    ComparisonIssue,
    ComparisonRun,
    Review,
    ReviewTrigger,
)
from disbursement.reviews.comparison import HEADER, import_comparison

from ..factories import PersonFactory, unique_id_number


def csv_bytes(rows, encoding="utf-8"):
    lines = [",".join(HEADER)] + [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture
def file_rows(paid):
    """Line 2 a vehicle of a paid head, 3 a death of another paid head, 4 nobody in payment,
    5 an invalid ID, 6 a repeat of line 2, 7 an unknown kind, 8 a bad date."""
    vehicle, death = paid(), paid()
    not_paid = PersonFactory()
    rows = [
        [
            vehicle.applicant.id_number,
            "县公安局交警大队",
            "车辆",
            "小型轿车 蒙L12345",
            "2026-10-08",
        ],
        [death.applicant.id_number, "县卫生健康委", "死亡", "死亡医学证明", "2026/11/02"],
        [not_paid.id_number, "县市场监管局", "工商登记", "个体工商户", "2026-09-01"],
        ["150822198001011234", "县公安局交警大队", "车辆", "货车", "2026-10-01"],
        [
            vehicle.applicant.id_number,
            "县公安局交警大队",
            "车辆",
            "小型轿车 蒙L12345",
            "2026-10-08",
        ],
        [unique_id_number(), "县税务局", "彩票中奖", "", ""],
        [death.applicant.id_number, "县人社局", "社保", "缴费基数4000", "2026-13-01"],
    ]
    return rows, vehicle, death


def imported(people, data, name="比对结果.csv"):
    return import_comparison(stream=io.BytesIO(data), file_name=name, actor=people.verifier)


def test_matches_become_findings_with_a_review_or_a_death_report(file_rows, people):
    rows, vehicle, death = file_rows
    run, created = imported(people, csv_bytes(rows))
    assert created
    assert (run.row_count, run.matched_count, run.unmatched_count, run.malformed_count) == (
        7,
        2,
        1,
        4,
    )
    found = ComparisonFinding.objects.get(line=2)
    assert found.person_id == vehicle.applicant_id and found.kind == "vehicle"
    assert found.review.trigger == ReviewTrigger.COMPARISON and found.review.verification_required
    assert run.review_count == 1
    report = ChangeReport.objects.get()
    assert report.member_id == death.applicant_id and report.kind == "death"
    assert ComparisonFinding.objects.get(line=3).change_report == report


def test_unmatched_and_malformed_rows_are_listed_with_line_numbers_and_reasons(file_rows, people):
    rows, _vehicle, _death = file_rows
    run, _ = imported(people, csv_bytes(rows))
    issues = {i.line: i for i in run.issues.all()}
    assert issues[4].kind == ComparisonIssue.Kind.UNMATCHED
    assert "*" in issues[4].id_masked
    assert issues[5].reason.startswith("身份证号无效")
    assert issues[6].reason == "与第2行重复"
    assert "无法识别" in issues[7].reason
    assert "日期" in issues[8].reason


def test_the_same_file_imports_once(file_rows, people):
    rows, _vehicle, _death = file_rows
    data = csv_bytes(rows)
    first, _ = imported(people, data)
    again, created = imported(people, data, name="再次上传.csv")
    assert not created and again == first
    assert ComparisonRun.objects.count() == 1
    assert ComparisonFinding.objects.count() == 2 and Review.objects.count() == 1


def test_a_gbk_csv_from_old_excel_imports(file_rows, people):
    rows, _vehicle, _death = file_rows
    run, _ = imported(people, csv_bytes(rows, "gbk"))
    assert run.matched_count == 2
    assert ComparisonFinding.objects.get(line=2).source_agency == "县公安局交警大队"


def test_an_xlsx_file_imports(file_rows, people):
    rows, _vehicle, _death = file_rows
    buffer = io.BytesIO()
    write_xlsx(buffer, [Sheet(title="比对", header=HEADER, rows=rows)])
    run, _ = imported(people, buffer.getvalue(), name="比对.xlsx")
    assert (run.matched_count, run.malformed_count) == (2, 4)


def test_a_second_run_finds_open_reviews_instead_of_opening_more(file_rows, people):
    rows, _vehicle, _death = file_rows
    imported(people, csv_bytes(rows[:1]))
    imported(people, csv_bytes([[rows[0][0], "县自然资源局", "不动产", "住房一套", "2026-10-20"]]))
    assert Review.objects.count() == 1
    assert set(ComparisonFinding.objects.values_list("review_id", flat=True)) == {
        Review.objects.get().pk
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("姓名,身份证号,日期\r\n张三,1,2\r\n".encode(), "表头不符合模板"),
        (",".join(HEADER).encode("utf-16"), "UTF-8/GBK"),
        (b"", "文件为空"),
    ],
)
def test_a_wrong_file_is_refused_with_a_clear_message_and_nothing_saved(
    people, standards, data, message
):
    with pytest.raises(DomainError, match=message):
        imported(people, data)
    assert not ComparisonRun.objects.exists()


def test_a_row_longer_than_the_header_is_listed_and_the_good_rows_imported(file_rows, people):
    rows, vehicle, _death = file_rows
    overlong = [
        vehicle.applicant.id_number,
        "县住建局",
        "不动产",
        "住宅一套",
        "2026-10-01",
        "多出来的列",
    ]
    run, _ = imported(people, csv_bytes([*rows, overlong]))
    assert (run.row_count, run.matched_count, run.malformed_count) == (8, 2, 5)
    issue = run.issues.get(line=9)
    assert issue.kind == ComparisonIssue.Kind.MALFORMED and "列数多于表头" in issue.reason
    assert not ComparisonFinding.objects.filter(line=9).exists()


def test_only_the_county_verification_officer_imports(file_rows, people):
    rows, _vehicle, _death = file_rows
    for someone in (people.handler, people.supervisor):
        with pytest.raises(NotAllowed):
            import_comparison(stream=io.BytesIO(csv_bytes(rows)), file_name="x.csv", actor=someone)


def test_the_officer_uploads_on_the_page_and_units_see_only_their_findings(
    file_rows, people, login, client
):
    rows, _vehicle, _death = file_rows
    login(people.verifier)
    upload = SimpleUploadedFile("比对结果.csv", csv_bytes(rows, "gbk"), content_type="text/csv")
    response = client.post("/reviews/comparisons/", {"file": upload})
    run = ComparisonRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reviews/comparisons/{run.pk}/"
    page = client.get(f"/reviews/comparisons/{run.pk}/?issues=malformed").content.decode()
    assert "第6行" in page and "与第2行重复" in page
    client.logout()
    login(people.handler)
    assert client.get(f"/reviews/comparisons/{run.pk}/").status_code == 200
    client.logout()
    login(people.outsider)
    assert client.get(f"/reviews/comparisons/{run.pk}/").status_code == 404
