"""Bring in the staff of every unit from a sheet: accounts with a first-login password change.

Checked first (nothing written), then imported in one transaction. Each new account gets a
random initial password, shown once to the administrator and then forgotten by the system.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.db import transaction
from django.utils import timezone

from accounts.models import (
    COUNTY_ROLES,
    UNIT_ROLES,
    Role,
    Unit,
    UnitKind,
    User,
    Village,
    separation_problem,
)
from accounts.services import grant_role
from dengkou_aid.errors import Conflict, DomainError, NotAllowed
from dengkou_aid.lib.spreadsheets import Sheet, TableError, overflow_reason, read_table, write_xlsx
from disbursement.models import ImportBatch

from .caseload import import_max_bytes, store_upload

HEADER = ("姓名", "单位代码", "嘎查村/社区", "岗位", "电话", "用户名")
EXAMPLE_ROWS = (
    ("李经办", "150822100", "", "经办人", "13800000001", ""),
    ("周协理", "150822100", "样例嘎查A", "嘎查村/社区协理员", "13800000002", ""),
    ("赵分管", "150822100", "", "直接责任人（分管领导）", "", "zhaofenguan"),
)
ROLE_NAMES: dict[str, str] = {
    **{label: value for value, label in Role.choices},
    "监管人员": Role.COUNTY_SUPERVISOR,
    "县级监管": Role.COUNTY_SUPERVISOR,
    "核对员": Role.VERIFICATION_OFFICER,
    "苏木达": Role.FIRST_RESPONSIBLE,
    "镇长": Role.FIRST_RESPONSIBLE,
    "总经理": Role.FIRST_RESPONSIBLE,
    "直接责任人": Role.DIRECT_RESPONSIBLE,
    "分管领导": Role.DIRECT_RESPONSIBLE,
    "具体责任人": Role.HANDLER,
    "协理员": Role.VILLAGE_ASSISTANT,
    "调查员": Role.INVESTIGATOR,
    "资金管理人员": Role.COUNTY_FINANCE,
    "管理员": Role.ADMINISTRATOR,
}
_ROLE_SEPARATORS = re.compile(r"[、,，;；/]")
_USERNAME = re.compile(r"[A-Za-z0-9_.@+-]{3,150}")
_PHONE = re.compile(r"[0-9+\-() ]{5,20}")
_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "#%+=@"


def importer_or_refuse(user: User) -> None:
    if not user.has_role(Role.ADMINISTRATOR):
        raise NotAllowed("只有系统管理员可以导入工作人员。")


@dataclass(slots=True)
class StaffRow:
    line: int
    full_name: str
    unit: Unit
    village: Village | None
    roles: list[str]
    phone: str
    username: str


@dataclass
class StaffCheck:
    rows: list[StaffRow] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.total,
            "create": len(self.rows),
            "unchanged": self.unchanged,
            "bad_rows": len(self.errors),
        }


def check_staff(source: BinaryIO) -> StaffCheck:
    """Validate every row of a staff sheet; nothing is written. A sheet of staff is small."""
    units = {u.code: u for u in Unit.objects.all()}
    check = StaffCheck()
    seen: set[str] = set()
    for line, values in read_table(source, HEADER, max_bytes=import_max_bytes()):
        check.total += 1
        try:
            row = _parse(line, values, units)
            if _existing(row):
                check.unchanged += 1
                continue
            key = row.username or f"{row.unit.pk}:{row.full_name}:{row.phone}"
            if key in seen:
                raise DomainError("与本文件中前面的一行重复")
            seen.add(key)
            check.rows.append(row)
        except DomainError as error:
            check.errors.append({"line": line, "reason": error.message})
    return check


def _parse(line: int, values: dict[str, str], units: dict[str, Unit]) -> StaffRow:
    problems = [reason] if (reason := overflow_reason(values)) else []
    full_name = values["姓名"]
    if not full_name:
        problems.append("缺少姓名")
    unit = units.get(values["单位代码"])
    if unit is None:
        problems.append(
            f"单位代码“{values['单位代码']}”不存在" if values["单位代码"] else "缺少单位代码"
        )
    roles = _roles(values["岗位"], problems)
    village = _village(unit, values["嘎查村/社区"], roles, problems) if unit else None
    if unit is not None and roles:
        problems.extend(_role_problems(unit, roles))
    phone = values["电话"]
    if phone and not _PHONE.fullmatch(phone):
        problems.append(f"电话“{phone}”格式不正确")
    username = values["用户名"]
    if username and not _USERNAME.fullmatch(username):
        problems.append("用户名只能由3位以上字母、数字和 _ . @ + - 组成")
    if problems:
        raise DomainError("；".join(problems))
    return StaffRow(line, full_name, unit, village, roles, phone, username)


def _role_names(value: str) -> list[str]:
    """The role names of a cell; a name that itself holds a separator ("嘎查村/社区协理员")
    is taken whole before the cell is split."""
    whole = []
    for name in sorted(ROLE_NAMES, key=len, reverse=True):
        if _ROLE_SEPARATORS.search(name) and name in value:
            whole.append(name)
            value = value.replace(name, "、")
    return whole + [name.strip() for name in _ROLE_SEPARATORS.split(value) if name.strip()]


def _roles(value: str, problems: list[str]) -> list[str]:
    names = _role_names(value)
    if not names:
        problems.append("缺少岗位")
        return []
    unknown = [name for name in names if name not in ROLE_NAMES]
    if unknown:
        problems.append("岗位无效：" + "、".join(unknown))
        return []
    return sorted({ROLE_NAMES[name] for name in names})


def _village(unit: Unit, value: str, roles: list[str], problems: list[str]) -> Village | None:
    if Role.VILLAGE_ASSISTANT not in roles:
        return None
    village = unit.villages.filter(name=value).first() or unit.villages.filter(code=value).first()
    if village is None:
        problems.append(
            f"协理员须填写{unit.name}的嘎查村/社区" + (f"（没有“{value}”）" if value else "")
        )
    return village


def _role_problems(unit: Unit, roles: list[str]) -> list[str]:
    problems = []
    for role in roles:
        label = Role(role).label
        if role in UNIT_ROLES | {Role.VILLAGE_ASSISTANT} and not unit.is_approval_unit:
            problems.append(f"{label}须属于苏木镇或农场公司")
        elif role in COUNTY_ROLES and not unit.is_county:
            problems.append(f"{label}须属于县民政局或核对中心")
        elif role == Role.INVESTIGATOR and unit.kind != UnitKind.AGENCY:
            problems.append(f"{label}须属于第三方社会救助服务机构")
    if problem := separation_problem(set(roles), admin_site_access=False):
        problems.append(problem)
    return problems


def _existing(row: StaffRow) -> bool:
    """The same person imported before: same username, or same name, unit and phone."""
    if row.username:
        user = User.objects.filter(username=row.username).first()
        if user is None:
            return False
        if user.full_name == row.full_name and user.unit_id == row.unit.pk:
            return True
        raise DomainError(f"用户名“{row.username}”已被其他人使用")
    return User.objects.filter(full_name=row.full_name, unit=row.unit, phone=row.phone).exists()


# --- Batches ---------------------------------------------------------------------------------


def upload_staff(*, file: Any, actor: User) -> ImportBatch:
    """Keep a staff sheet and check it at once (it is small); nothing else is written."""
    importer_or_refuse(actor)
    batch = store_upload(
        file=file, kind=ImportBatch.Kind.STAFF, header=HEADER, actor=actor, scope=None
    )
    try:
        with batch.file.open("rb") as source:
            check = check_staff(source)
    except TableError as error:
        batch.state = ImportBatch.State.FAILED
        batch.message = str(error)[:500]
        batch.save(update_fields=["state", "message"])
        return batch
    batch.preview = check.counts()
    batch.errors = check.errors
    batch.error_total = len(check.errors)
    batch.state = ImportBatch.State.PREVIEWED
    batch.progress = 100
    batch.save(update_fields=["preview", "errors", "error_total", "state", "progress"])
    return batch


@transaction.atomic
def import_staff(*, batch: ImportBatch, actor: User) -> ImportBatch:
    """Create the accounts of the good rows, each with a random password to change at first login."""
    importer_or_refuse(actor)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.kind != ImportBatch.Kind.STAFF or batch.state != ImportBatch.State.PREVIEWED:
        raise Conflict(f"该文件当前状态为“{batch.get_state_display()}”，不能确认导入。")
    with batch.file.open("rb") as source:
        check = check_staff(source)
    issued = [_create(row, actor) for row in check.rows]
    batch.secrets = json.dumps(issued, ensure_ascii=False)
    batch.counts = {**check.counts(), "created": len(issued)}
    batch.errors = check.errors
    batch.error_total = len(check.errors)
    batch.state = ImportBatch.State.IMPORTED
    batch.imported_by = actor
    batch.imported_at = timezone.now()
    batch.save(
        update_fields=[
            "secrets",
            "counts",
            "errors",
            "error_total",
            "state",
            "imported_by",
            "imported_at",
        ]
    )
    return batch


def _create(row: StaffRow, actor: User) -> dict[str, str]:
    password = initial_password()
    user = User(
        username=row.username or _free_username(row),
        full_name=row.full_name,
        phone=row.phone,
        unit=row.unit,
        village=row.village,
        must_change_password=True,
    )
    user.set_password(password)
    user.save()
    for role in row.roles:
        grant_role(user=user, role=role, actor=actor)
    return {
        "line": row.line,
        "username": user.username,
        "full_name": user.full_name,
        "unit": row.unit.name,
        "roles": "、".join(Role(role).label for role in row.roles),
        "password": password,
    }


def _free_username(row: StaffRow) -> str:
    if row.phone.isdigit() and not User.objects.filter(username=row.phone).exists():
        return row.phone
    n = User.objects.filter(username__startswith=f"{row.unit.code}-").count() + 1
    while User.objects.filter(username=f"{row.unit.code}-{n:03d}").exists():
        n += 1
    return f"{row.unit.code}-{n:03d}"


def initial_password() -> str:
    """12 random characters with upper and lower case, a digit and a symbol."""
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(12))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
            and any(not c.isalnum() for c in password)
        ):
            return password


@transaction.atomic
def take_secrets(*, batch: ImportBatch, actor: User) -> list[dict[str, str]]:
    """The initial passwords, once: read and cleared in the same transaction."""
    importer_or_refuse(actor)
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if not locked.secrets:
        return []
    issued = json.loads(locked.secrets)
    locked.secrets = ""
    locked.save(update_fields=["secrets"])
    return issued


# --- Template -----------------------------------------------------------------------------------


def write_template_xlsx(target: BinaryIO) -> None:
    write_xlsx(target, [Sheet(title="工作人员导入模板", header=HEADER, rows=EXAMPLE_ROWS)])


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(EXAMPLE_ROWS)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
