"""Importing a year's holidays from CSV: all or nothing, errors with line numbers, and the
provisional deadlines recomputed once the year is complete."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from accounts.models import Role
from cases.deadlines.holidays import HolidayImportError, import_holidays
from cases.models import CalendarYear, Case, CaseEvent, WorkdayOverride

from ..conftest import make_user

GOOD_2027 = (
    "date,is_workday,name\n2027-01-01,0,元旦\n2027-02-06,1,春节调休上班\n2027-02-08,0,春节\n"
)


def test_a_good_file_is_imported_whole(db):
    result = import_holidays(text=GOOD_2027, actor=None)
    assert (result.created, result.updated, result.years) == (3, 0, [2027])
    assert WorkdayOverride.objects.get(date=date(2027, 2, 6)).is_workday
    assert not CalendarYear.objects.filter(year=2027, complete=True).exists()


def test_importing_again_updates_instead_of_duplicating(db):
    import_holidays(text=GOOD_2027, actor=None)
    result = import_holidays(text="2027-01-01,0,元旦节\n", actor=None)
    assert (result.created, result.updated) == (0, 1)
    assert WorkdayOverride.objects.get(date=date(2027, 1, 1)).name == "元旦节"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("2027-13-01,0,不存在的月份", "第3行：日期“2027-13-01”格式有误"),
        ("2027-01-01,0,重复", "第3行：日期2027-01-01与第2行重复"),
        ("2027-01-09,也许,周六", "第3行：是否工作日“也许”无法识别"),
        ("2026-10-01,1,国庆", "第3行：2026-10-01按国务院已公布的安排为休息日"),
        ("2026-02-14,0,春节", "第3行：2026-02-14按国务院已公布的安排为工作日"),
    ],
)
def test_a_bad_line_rejects_the_whole_file_naming_the_line(db, bad_line, message):
    text = f"date,is_workday,name\n2027-01-01,0,元旦\n{bad_line}\n2027-02-08,0,春节\n"
    with pytest.raises(HolidayImportError) as refused:
        import_holidays(text=text, actor=None, complete_years=True)
    assert any(error.startswith(message) for error in refused.value.errors), refused.value.errors
    assert not WorkdayOverride.objects.exists()
    assert not CalendarYear.objects.exists()


def test_every_bad_line_is_reported_at_once(db):
    text = "2027-01-01,0,元旦\nnot-a-date,0,x\n2027-01-01,1,y\n"
    with pytest.raises(HolidayImportError) as refused:
        import_holidays(text=text, actor=None)
    assert [e[:4] for e in refused.value.errors] == ["第2行：", "第3行："]


def test_a_year_the_package_knows_may_be_restated_when_it_agrees(db):
    result = import_holidays(text="2026-10-01,0,国庆节\n2026-10-10,1,国庆调休上班\n", actor=None)
    assert result.created == 2


def test_completing_the_year_recomputes_provisional_deadlines(db, make_case, people):
    case = make_case(
        accepted_on=date(2026, 12, 15), due_date=date(2027, 1, 12), deadline_provisional=True
    )
    decided = make_case(
        accepted_on=date(2026, 12, 15),
        due_date=date(2027, 1, 12),
        deadline_provisional=True,
        state="withdrawn",
    )
    import_holidays(text=GOOD_2027, actor=None)
    case = Case.objects.get(pk=case.pk)
    assert (case.due_date, case.deadline_provisional) == (date(2027, 1, 12), True)

    result = import_holidays(text=GOOD_2027, actor=None, complete_years=True)
    case = Case.objects.get(pk=case.pk)
    assert result.recomputed == 1
    assert (case.due_date, case.deadline_provisional) == (date(2027, 1, 13), False)
    event = CaseEvent.objects.get(case=case, action="deadline_recomputed")
    assert "2027-01-13" in event.note
    assert Case.objects.get(pk=decided.pk).deadline_provisional  # its clock has stopped: left alone


def test_the_command_imports_a_file_and_refuses_a_bad_one(db, tmp_path, capsys):
    good = tmp_path / "2027.csv"
    good.write_text(GOOD_2027, encoding="utf-8-sig")
    call_command("import_holidays", str(good), "--complete")
    assert WorkdayOverride.objects.count() == 3
    assert CalendarYear.objects.get(year=2027).complete

    bad = tmp_path / "bad.csv"
    bad.write_bytes("2027-03-01,0,测试\n2027-3-32,0,坏日期\n".encode("gb18030"))
    with pytest.raises(CommandError, match="第2行"):
        call_command("import_holidays", str(bad))
    assert not WorkdayOverride.objects.filter(date=date(2027, 3, 1)).exists()


def test_the_admin_import_page_shows_line_errors_and_imports_a_good_file(db, client, login, unit_a):
    admin = make_user(
        unit_a, Role.ADMINISTRATOR, username="admin1", is_staff=True, is_superuser=True
    )
    login(admin)
    url = "/admin/cases/workdayoverride/import/"
    bad = SimpleUploadedFile("bad.csv", "2027-01-01,0,元旦\n2027-01-01,0,元旦\n".encode())
    response = client.post(url, {"file": bad})
    assert response.status_code == 200
    assert "第2行：日期2027-01-01与第1行重复" in response.content.decode()
    assert not WorkdayOverride.objects.exists()

    good = SimpleUploadedFile("2027.csv", GOOD_2027.encode())
    response = client.post(url, {"file": good, "complete": "on", "source": "国办发明电"})
    assert response.status_code == 302
    assert WorkdayOverride.objects.filter(source="国办发明电").count() == 3
    assert CalendarYear.objects.get(year=2027).complete
