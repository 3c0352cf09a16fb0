"""The staff sheet: accounts with roles and a first-login password change, passwords shown once."""

from __future__ import annotations

import csv
import io

from accounts.models import Role, User
from disbursement.imports.staff import HEADER
from disbursement.models import ImportBatch

from .conftest import confirm, latest_batch, upload


def staff_file(rows) -> io.BytesIO:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    file = io.BytesIO(text.getvalue().encode("gbk"))
    file.name = "staff.csv"
    return file


ROWS = [
    ["韩经办", "150822100", "", "经办人", "13900000001", ""],
    ["乌协理", "150822100", "样例嘎查A", "协理员", "13900000002", "wuxieli"],
    ["秦分管", "150822101", "", "分管领导、经办人", "", ""],
    ["错岗位", "150822100", "", "村长", "", ""],  # line 5: unknown role
    ["无村协理", "150822100", "", "协理员", "", ""],  # line 6: assistant without village
    ["县里的经办", "150822", "", "经办人", "", ""],  # line 7: a handler of the county bureau
]


def test_the_staff_sheet_creates_accounts_with_roles_and_reports_bad_rows(
    caseload, administrator, login
):
    client = login(administrator)
    page = upload(client, "staff", staff_file(ROWS)).content.decode()
    assert "将新建账户 3 个" in page
    assert "岗位无效：村长" in page
    assert "协理员须填写巴彦高勒镇的嘎查村/社区" in page
    assert "经办人须属于苏木镇或农场公司" in page

    page = confirm(client, latest_batch()).content.decode()

    han = User.objects.get(full_name="韩经办")
    assert han.username == "13900000001"
    assert han.must_change_password is True
    assert han.has_role(Role.HANDLER)
    wu = User.objects.get(username="wuxieli")
    assert wu.village == caseload.village_a
    qin = User.objects.get(full_name="秦分管")
    assert qin.role_codes == {Role.DIRECT_RESPONSIBLE, Role.HANDLER}
    assert qin.username == "150822101-001"
    assert "初始密码（只显示这一次）" in page
    password = page.split("<code>")[1].split("</code>")[0]
    assert han.check_password(password)


def test_the_initial_passwords_are_shown_only_once(caseload, administrator, login):
    client = login(administrator)
    upload(client, "staff", staff_file(ROWS[:1]))
    confirm(client, latest_batch())

    again = client.get(f"/imports/{latest_batch().pk}/").content.decode()

    assert "<code>" not in again
    assert latest_batch().secrets == ""


def test_importing_the_staff_sheet_again_creates_nobody(caseload, administrator, login):
    client = login(administrator)
    upload(client, "staff", staff_file(ROWS[:3]))
    confirm(client, latest_batch())
    count = User.objects.count()

    page = upload(client, "staff", staff_file(ROWS[:3])).content.decode()

    assert "将新建账户 0 个，已存在 3 个" in page
    assert latest_batch().state == ImportBatch.State.PREVIEWED
    assert User.objects.count() == count


def test_a_handler_may_not_import_staff(caseload, login):
    response = upload(login(caseload.handler), "staff", staff_file(ROWS[:1]))

    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_the_staff_sheet_keeps_the_administrator_out_of_business_roles_and_audits_grants(
    caseload, administrator, login
):
    from accounts.models import AuditLog

    client = login(administrator)
    rows = [
        ["韩经办", "150822100", "", "经办人", "13900000001", ""],
        ["兼职管理", "150822100", "", "管理员、第一责任人", "", ""],
    ]
    page = upload(client, "staff", staff_file(rows)).content.decode()
    assert "将新建账户 1 个" in page
    assert "系统管理员不能同时担任业务角色" in page
    confirm(client, latest_batch())
    assert not User.objects.filter(full_name="兼职管理").exists()
    [granted] = AuditLog.objects.filter(action=AuditLog.Action.ROLE_GRANTED)
    assert granted.user == administrator and "经办人" in granted.detail


def test_the_templates_own_role_labels_import_whole(caseload, administrator, login):
    client = login(administrator)
    rows = [
        ["孔协理", "150822100", "样例嘎查A", "嘎查村/社区协理员", "13900000011", ""],
        ["钱分管", "150822100", "", "直接责任人（分管领导）/经办人", "13900000012", ""],
    ]
    page = upload(client, "staff", staff_file(rows)).content.decode()
    assert "岗位无效" not in page
    confirm(client, latest_batch())
    assert User.objects.get(full_name="孔协理").role_codes == {Role.VILLAGE_ASSISTANT}
    assert User.objects.get(full_name="钱分管").role_codes == {
        Role.DIRECT_RESPONSIBLE,
        Role.HANDLER,
    }
