"""Writes to the organisation tree and to staff accounts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user, match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from dengkou_aid.errors import DomainError, NotAllowed

from .audit import record
from .models import (
    ApiToken,
    AuditLog,
    Role,
    RoleGrant,
    Unit,
    User,
    Village,
    VillageChange,
    VillageKind,
)

URBAN_RURAL_CODES = {"111", "112", "121", "122", "123", "210", "220"}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return f"新增{self.created}个，更新{self.updated}个，未变{self.unchanged}个，错误{len(self.errors)}行"


@dataclass
class VillageRow:
    line: int
    code: str
    name: str
    urban_rural_code: str
    merged_into: str = ""


def parse_village_csv(text: str) -> tuple[list[VillageRow], list[tuple[int, str]]]:
    """Parse the national code list: 12-digit code, name, urban-rural class[, merged-into code]."""
    rows: list[VillageRow] = []
    errors: list[tuple[int, str]] = []
    for line_no, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if line_no == 1 and not cells[0].isdigit():
            continue  # header
        if len(cells) < 3:
            errors.append((line_no, "列数不足：应为 代码,名称,城乡分类代码"))
            continue
        code, name, klass = cells[0], cells[1], cells[2]
        merged = cells[3] if len(cells) > 3 else ""
        problem = _village_row_problem(code, name, klass, merged)
        if problem:
            errors.append((line_no, problem))
            continue
        rows.append(VillageRow(line_no, code, name, klass, merged))
    return rows, errors


def _village_row_problem(code: str, name: str, klass: str, merged: str) -> str:
    if len(code) != 12 or not code.isdigit():
        return f"代码“{code}”不是12位数字"
    if not name:
        return "名称为空"
    if klass not in URBAN_RURAL_CODES:
        return f"城乡分类代码“{klass}”无效"
    if merged and (len(merged) != 12 or not merged.isdigit()):
        return f"并入代码“{merged}”不是12位数字"
    return ""


def village_kind_for(name: str) -> str:
    return (
        VillageKind.COMMUNITY
        if name.endswith(("社区", "居委会", "居民委员会"))
        else VillageKind.VILLAGE
    )


@transaction.atomic
def import_villages(rows: Iterable[VillageRow], *, source: str) -> ImportReport:
    """Create or update villages by code; renames and merges are recorded, never deleted."""
    report = ImportReport()
    units = {u.code: u for u in Unit.objects.approval_units()}
    pending_merges: list[tuple[VillageRow, Village]] = []
    for row in rows:
        unit = units.get(row.code[:9])
        if unit is None:
            report.errors.append(
                (row.line, f"代码前9位“{row.code[:9]}”不属于磴口县任何苏木镇或农场公司")
            )
            continue
        village, outcome = _upsert_village(row, unit, source)
        setattr(report, outcome, getattr(report, outcome) + 1)
        if row.merged_into:
            pending_merges.append((row, village))
    for row, village in pending_merges:
        _merge(village, row, source, report)
    return report


def _upsert_village(row: VillageRow, unit: Unit, source: str) -> tuple[Village, str]:
    village = Village.objects.filter(code=row.code).first()
    if village is None:
        village = Village.objects.create(
            code=row.code,
            name=row.name,
            kind=village_kind_for(row.name),
            urban_rural_code=row.urban_rural_code,
            unit=unit,
        )
        VillageChange.objects.create(
            village=village, kind=VillageChange.Kind.CREATED, new_value=row.name, source=source
        )
        return village, "created"
    changed = False
    if village.name != row.name:
        VillageChange.objects.create(
            village=village,
            kind=VillageChange.Kind.RENAMED,
            old_value=village.name,
            new_value=row.name,
            source=source,
        )
        village.name = row.name
        changed = True
    if village.urban_rural_code != row.urban_rural_code:
        VillageChange.objects.create(
            village=village,
            kind=VillageChange.Kind.RECLASSIFIED,
            old_value=village.urban_rural_code,
            new_value=row.urban_rural_code,
            source=source,
        )
        village.urban_rural_code = row.urban_rural_code
        changed = True
    if changed:
        village.save(update_fields=["name", "urban_rural_code"])
        return village, "updated"
    return village, "unchanged"


def _merge(village: Village, row: VillageRow, source: str, report: ImportReport) -> None:
    target = Village.objects.filter(code=row.merged_into).first()
    if target is None or target.pk == village.pk:
        report.errors.append((row.line, f"并入代码“{row.merged_into}”找不到对应的嘎查村/社区"))
        return
    if village.merged_into_id == target.pk:
        return
    village.merged_into = target
    village.is_active = False
    village.save(update_fields=["merged_into", "is_active"])
    VillageChange.objects.create(
        village=village,
        kind=VillageChange.Kind.MERGED,
        old_value=village.name,
        new_value=target.name,
        source=source,
    )


@transaction.atomic
def change_password(*, user: User, new_password: str, request: HttpRequest | None = None) -> None:
    """Set a new (already validated) password, clear the must-change flag, end every API token."""
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    ApiToken.objects.filter(user=user).delete()
    record(AuditLog.Action.PASSWORD_CHANGED, request=request, user=user)


# --- Roles, passwords and second factors set by the system administrator -------------------
#
# The system administrator manages accounts, units and roles but never holds a business role
# (MLPS 三员分立). Each change below writes one audit row naming the acting administrator.


def _forget_roles(user: User) -> None:
    user._role_codes = None


@transaction.atomic
def grant_role(
    *, user: User, role: str, actor: User | None, request: HttpRequest | None = None
) -> RoleGrant:
    """Grant a role unless it breaks 三员分立 (an administrator or audit reader holds it alone)."""
    grant = RoleGrant(user=user, role=role)
    if problem := grant.separation_problem():
        raise NotAllowed(problem)
    grant.save()
    _forget_roles(user)
    record(
        AuditLog.Action.ROLE_GRANTED,
        request=request,
        user=actor,
        obj=user,
        detail=f"为{user.get_username()}（{user}）授予角色：{Role(role).label}",
    )
    return grant


def refuse_role_grant(
    *,
    user: User,
    roles: set[str],
    problem: str,
    actor: User | None,
    request: HttpRequest | None = None,
) -> None:
    """Audit a grant that 三员分立 refused: who tried to give whom which role, and why not."""
    labels = "、".join(Role(role).label for role in sorted(roles)) or "（无新增）"
    record(
        AuditLog.Action.ACCESS_DENIED,
        request=request,
        user=actor,
        obj=user,
        detail=f"拒绝为{user.get_username()}（{user}）授予角色：{labels}。{problem}"[:500],
    )


@transaction.atomic
def remove_role(
    *, grant: RoleGrant, actor: User | None, request: HttpRequest | None = None
) -> None:
    """Take a role away from a user; the audit row names who did it."""
    user = grant.user
    label = Role(grant.role).label
    grant.delete()
    _forget_roles(user)
    record(
        AuditLog.Action.ROLE_REMOVED,
        request=request,
        user=actor,
        obj=user,
        detail=f"撤销{user.get_username()}（{user}）的角色：{label}",
    )


@transaction.atomic
def set_password_by_administrator(
    *,
    user: User,
    raw_password: str | None,
    actor: User | None,
    request: HttpRequest | None = None,
) -> User:
    """Set another user's password; in production the user must change it at next sign-in.

    `raw_password=None` disables password sign-in for the account.
    """
    user.set_password(raw_password)
    forced = bool(settings.PRODUCTION) and raw_password is not None and user != actor
    if forced:
        user.must_change_password = True
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    ApiToken.objects.filter(user=user).delete()
    what = "设置新密码" if raw_password is not None else "停用密码登录"
    record(
        AuditLog.Action.PASSWORD_RESET,
        request=request,
        user=actor,
        obj=user,
        detail=f"为{user.get_username()}（{user}）{what}"
        + ("，下次登录须修改密码" if forced else ""),
    )
    return user


@transaction.atomic
def reset_second_factor(
    *, user: User, actor: User | None, request: HttpRequest | None = None
) -> int:
    """Remove every second-factor device of a user; they bind a new token at next sign-in."""
    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    record(
        AuditLog.Action.OTP_RESET,
        request=request,
        user=actor,
        obj=user,
        detail=f"重置{user.get_username()}（{user}）的动态口令令牌（删除{removed}个）",
    )
    return removed


ENROL_DEVICE_NAME = "手机令牌"


def start_enrolment(*, user: User) -> TOTPDevice:
    """An unconfirmed TOTP device whose key only the user, signing in, is shown."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=ENROL_DEVICE_NAME, confirmed=False)


@transaction.atomic
def confirm_enrolment(
    *, device: TOTPDevice, token: str, request: HttpRequest | None = None
) -> bool:
    """Confirm a new device with a code from it; the binding is audited."""
    if not device.verify_token(token.strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(
        AuditLog.Action.OTP_ENROLLED,
        request=request,
        user=device.user,
        obj=device.user,
        detail=f"{device.user.get_username()}绑定动态口令令牌",
    )
    return True


# --- the one-time code of a signature (谁签字，谁负责) ------------------------------------


class SigningCodeRefused(DomainError):
    """The one-time code typed to sign was missing or wrong: nothing was signed.

    `wrong_code_of` is the user whose typed code was wrong (a guess to count), else None.
    """

    def __init__(self, message: str, *, wrong_code_of: User | None = None) -> None:
        super().__init__(message, field="otp_token")
        self.wrong_code_of = wrong_code_of


def check_signing_code(user: User, token: str) -> None:
    """A leader re-enters a one-time code to sign, so the signature is theirs and no one else's.

    Users whose role signs in with a second factor (leaders, county staff) confirm every
    signature with a code from their own token; others sign with their session alone.
    """
    if not user.needs_two_factor:
        return
    token = (token or "").strip()
    if not token:
        raise SigningCodeRefused("签字须输入本人手机令牌上当前显示的6位动态口令，未签字。")
    devices = list(devices_for_user(user))
    if not devices:
        raise SigningCodeRefused("您尚未绑定手机令牌，不能签字；请重新登录绑定。")
    if not any(device.verify_is_allowed()[0] for device in devices):
        raise SigningCodeRefused("动态口令输错次数过多，请稍等片刻再签字，未签字。")
    if match_token(user, token) is None:
        raise SigningCodeRefused(
            "动态口令错误，未签字。请核对本人手机令牌上当前显示的6位数字后重新签字。",
            wrong_code_of=user,
        )


def record_signing_code_failure(user: User, *, request: HttpRequest | None = None) -> None:
    """Count a wrong signing code against the user's devices and audit it.

    Called after the signing transaction rolled back, so the count and the audit row stay.
    """
    for device in devices_for_user(user):
        device.throttle_increment(commit=True)
    record(
        AuditLog.Action.OTP_FAILED,
        request=request,
        user=user,
        obj=user,
        detail=f"{user.get_username()}签字时动态口令缺失或错误，未签字",
    )
