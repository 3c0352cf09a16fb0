"""Organisation tree, people, roles, notifications and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from rest_framework.authtoken.models import Token

from dengkou_aid.errors import NotAllowed


class UnitKind(models.TextChoices):
    COUNTY_BUREAU = "county_bureau", "县民政局"
    VERIFICATION_CENTRE = "verification_centre", "居民家庭经济状况核对中心"
    TOWN = "town", "镇"
    SUMU = "sumu", "苏木"
    FARM_COMPANY = "farm_company", "农场公司"
    AGENCY = "agency", "第三方社会救助服务机构"


APPROVAL_UNIT_KINDS = (UnitKind.TOWN, UnitKind.SUMU, UnitKind.FARM_COMPANY)
COUNTY_KINDS = (UnitKind.COUNTY_BUREAU, UnitKind.VERIFICATION_CENTRE)


class UnitQuerySet(models.QuerySet):
    def approval_units(self) -> UnitQuerySet:
        return self.filter(kind__in=APPROVAL_UNIT_KINDS)


class Unit(models.Model):
    """An organisation a user belongs to: the county bureau, an approval unit or an agency."""

    code = models.CharField("统计用区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类别", max_length=30, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级单位", null=True, blank=True, on_delete=models.PROTECT
    )
    complaint_phone = models.CharField("监督投诉电话", max_length=30, blank=True)
    address = models.CharField("办公地址", max_length=200, blank=True)
    is_active = models.BooleanField("在用", default=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approval_unit(self) -> bool:
        return self.kind in APPROVAL_UNIT_KINDS

    @property
    def is_county(self) -> bool:
        return self.kind in COUNTY_KINDS


class VillageKind(models.TextChoices):
    VILLAGE = "village", "嘎查村"
    COMMUNITY = "community", "居委会/社区"


class Village(models.Model):
    """A village (嘎查村) or community (居委会/社区) under an approval unit.

    Renamed or merged villages are never deleted: cases keep pointing at the
    village they were filed in, and `merged_into` leads to its successor.
    """

    code = models.CharField("统计用区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类别", max_length=20, choices=VillageKind.choices)
    urban_rural_code = models.CharField("城乡分类代码", max_length=3, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name="所属苏木镇/农场", on_delete=models.PROTECT, related_name="villages"
    )
    is_active = models.BooleanField("在用", default=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    is_sample = models.BooleanField("演示样例", default=False)

    class Meta:
        verbose_name = "嘎查村/社区"
        verbose_name_plural = "嘎查村/社区"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_urban(self) -> bool:
        # National urban-rural class codes: 1xx urban, 2xx rural.
        return self.urban_rural_code.startswith("1")


class VillageChange(models.Model):
    """A rename or merge of a village, kept as its history."""

    class Kind(models.TextChoices):
        CREATED = "created", "新增"
        RENAMED = "renamed", "更名"
        MERGED = "merged", "合并"
        RECLASSIFIED = "reclassified", "城乡分类变更"

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    source = models.CharField("来源", max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "嘎查村变更记录"
        verbose_name_plural = "嘎查村变更记录"
        ordering = ["at", "id"]


class Role(models.TextChoices):
    COUNTY_SUPERVISOR = "county_supervisor", "县民政局监管人员"
    VERIFICATION_OFFICER = "verification_officer", "县核对中心核对员"
    FIRST_RESPONSIBLE = "first_responsible", "第一责任人"
    DIRECT_RESPONSIBLE = "direct_responsible", "直接责任人（分管领导）"
    HANDLER = "handler", "经办人"
    VILLAGE_ASSISTANT = "village_assistant", "嘎查村/社区协理员"
    INVESTIGATOR = "investigator", "第三方入户调查员"
    COUNTY_FINANCE = "county_finance", "县民政局资金管理人员"
    ADMINISTRATOR = "administrator", "系统管理员"
    AUDIT_READER = "audit_reader", "安全审计员"


# MLPS 三员分立: the system administrator and the audit reader each hold their role alone;
# every other role is a business role (it handles, signs or supervises cases).
SYSTEM_ROLES = frozenset({Role.ADMINISTRATOR, Role.AUDIT_READER})
BUSINESS_ROLES = frozenset(Role) - SYSTEM_ROLES
COUNTY_ROLES = frozenset({Role.COUNTY_SUPERVISOR, Role.VERIFICATION_OFFICER, Role.COUNTY_FINANCE})
UNIT_ROLES = frozenset({Role.FIRST_RESPONSIBLE, Role.DIRECT_RESPONSIBLE, Role.HANDLER})
# Roles that sign or supervise must sign in with a second factor (MLPS 2.0 level 3).
TWO_FACTOR_ROLES = frozenset(
    {
        Role.FIRST_RESPONSIBLE,
        Role.DIRECT_RESPONSIBLE,
        Role.COUNTY_SUPERVISOR,
        Role.VERIFICATION_OFFICER,
        Role.COUNTY_FINANCE,
        Role.ADMINISTRATOR,
        Role.AUDIT_READER,
    }
)


def separation_problem(roles: frozenset[str] | set[str], *, admin_site_access: bool) -> str:
    """Why a set of roles (with or without /admin/ access) breaks 三员分立; "" when it does not."""
    administrator = admin_site_access or Role.ADMINISTRATOR in roles
    business = sorted(roles & BUSINESS_ROLES)
    labels = "、".join(Role(code).label for code in business)
    if administrator and business:
        return f"系统管理员不能同时担任业务角色（{labels}）：三员分立，系统管理员不办理、不签署救助业务。"
    if Role.AUDIT_READER in roles and administrator:
        return "安全审计员不能同时是系统管理员：三员分立，审计与管理须由不同人员担任。"
    if Role.AUDIT_READER in roles and business:
        return f"安全审计员不能同时担任业务角色（{labels}）：三员分立，审计员只查阅审计日志。"
    return ""


class User(AbstractUser):
    """A member of staff: belongs to one unit (and a village for assistants), holds roles."""

    full_name = models.CharField("姓名", max_length=50)
    phone = models.CharField("电话", max_length=20, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name="所在单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    village = models.ForeignKey(
        Village,
        verbose_name="所在嘎查村/社区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assistants",
    )
    must_change_password = models.BooleanField("首次登录须修改密码", default=False)
    password_changed_at = models.DateTimeField("密码修改时间", default=timezone.now)

    objects = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username

    def save(self, *args, **kwargs) -> None:
        fields = kwargs.get("update_fields")
        touches_access = fields is None or {"is_staff", "is_superuser"} & set(fields)
        if self.pk is not None and touches_access and self.has_admin_site_access:
            roles = frozenset(self.role_grants.values_list("role", flat=True))
            problem = separation_problem(roles, admin_site_access=True)
            if problem:
                raise NotAllowed(problem)
        super().save(*args, **kwargs)

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def has_admin_site_access(self) -> bool:
        return self.is_staff or self.is_superuser

    @property
    def is_system_administrator(self) -> bool:
        """Manages accounts, units and roles; holds no business role and signs nothing."""
        return self.has_admin_site_access or self.has_role(Role.ADMINISTRATOR)

    @property
    def is_audit_reader(self) -> bool:
        return self.has_role(Role.AUDIT_READER)

    @property
    def may_sign(self) -> bool:
        """Only a business user signs: never the system administrator or the audit reader."""
        return not self.is_system_administrator and not self.is_audit_reader

    @property
    def role_codes(self) -> frozenset[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = frozenset(self.role_grants.values_list("role", flat=True))
            self._role_codes = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes.intersection(roles))

    @property
    def role_labels(self) -> list[str]:
        return [Role(code).label for code in sorted(self.role_codes)]

    @property
    def is_county_staff(self) -> bool:
        return self.unit is not None and self.unit.is_county and self.has_role(*COUNTY_ROLES)

    @property
    def needs_two_factor(self) -> bool:
        return self.has_role(*TWO_FACTOR_ROLES)

    @property
    def password_expired(self) -> bool:
        age = timezone.now() - self.password_changed_at
        return age.days >= settings.PASSWORD_MAX_AGE_DAYS

    @property
    def password_change_reason(self) -> str:
        """Why this user must change the password before doing anything else ("" if not)."""
        if self.must_change_password:
            return "首次登录须修改初始密码。"
        if self.password_expired:
            return f"密码已超过{settings.PASSWORD_MAX_AGE_DAYS}天未修改，请设置新密码。"
        return ""


class RoleGrant(models.Model):
    """One role held by one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField("角色", max_length=30, choices=Role.choices)
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "角色授予"
        verbose_name_plural = "角色授予"
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_role_grant")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    def save(self, *args, **kwargs) -> None:
        # Every way of granting a role passes here, so 三员分立 holds outside the services too.
        if self.pk is None and (problem := self.separation_problem()):
            raise NotAllowed(problem)
        super().save(*args, **kwargs)

    def separation_problem(self) -> str:
        """Why holding this role next to the user's others breaks 三员分立; "" when it does not."""
        held = set(RoleGrant.objects.filter(user_id=self.user_id).values_list("role", flat=True))
        return separation_problem(
            held | {self.role}, admin_site_access=self.user.has_admin_site_access
        )

    def clean(self) -> None:
        if self.pk is None and self.user_id is not None and (problem := self.separation_problem()):
            raise ValidationError({"role": problem})


class ApiToken(Token):
    """A tablet's API token: ends API_TOKEN_TTL after sign-in, after API_TOKEN_IDLE_TIMEOUT
    unused, and with any password change (see accounts.authentication)."""

    last_used_at = models.DateTimeField("最近使用时间", default=timezone.now)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("审计日志不可修改。")

    def delete(self):
        raise PermissionDenied("审计日志不可删除。")


# The code names accounts.access.not_found records for a refused fetch, as the audit reader
# reads them; a name missing here is shown as recorded.
REFUSED_OBJECT_LABELS = {
    "case": "救助案件",
    "case_file": "案件附件",
    "document": "文书",
    "export": "导出文件",
    "import": "导入文件",
    "ImportBatch": "导入批次",
    "bulletin": "工作通报",
    "spot_check_photo": "抽查照片",
    "roster": "发放清册",
    "entitlement": "待遇",
    "complaint": "投诉举报",
    "finding": "监督发现问题",
    "rectification": "整改",
    "sample": "抽查样本",
    "draw": "抽查批次",
    "dashboard": "监督看板",
    "supervision": "监督页面",
    "unit": "单位",
    "comparison_run": "比对批次",
    "comparison_runs": "比对批次列表",
    **{
        f"file:{kind}": f"文件（{label}）"
        for kind, label in {
            "material": "案件附件",
            "document": "文书",
            "export": "导出文件",
            "import": "导入文件",
            "bulletin": "工作通报",
            "photo": "抽查照片",
        }.items()
    },
}


def _model_name(label: str) -> str:
    from django.apps import apps

    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


class AuditLog(models.Model):
    """Append-only security log: sign-ins, failures, lock-outs, refusals, full reads of private data.

    The application never updates or deletes a row; on PostgreSQL a trigger refuses it too.
    """

    class Action(models.TextChoices):
        LOGIN = "login", "登录成功"
        LOGIN_FAILED = "login_failed", "登录失败"
        LOCKED_OUT = "locked_out", "账户锁定"
        LOGOUT = "logout", "退出登录"
        OTP_FAILED = "otp_failed", "动态口令错误"
        PASSWORD_CHANGED = "password_changed", "修改密码"
        ACCESS_DENIED = "access_denied", "越权访问被拒绝"
        TOKEN_ISSUED = "token_issued", "签发接口令牌"
        TOKEN_REJECTED = "token_rejected", "接口令牌无效或过期"
        SENSITIVE_READ = "sensitive_read", "查看敏感信息全文"
        PROTECTED_WRITE = "protected_write", "试图修改已签署记录"
        ROLE_GRANTED = "role_granted", "授予角色"
        ROLE_REMOVED = "role_removed", "撤销角色"
        PASSWORD_RESET = "password_reset", "管理员重置密码"
        OTP_RESET = "otp_reset", "重置动态口令令牌"
        OTP_ENROLLED = "otp_enrolled", "绑定动态口令令牌"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    username = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=60, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = "安全审计日志"
        verbose_name_plural = "安全审计日志"
        ordering = ["-at", "-id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("审计日志不可修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("审计日志不可删除。")

    @property
    def object_display(self) -> str:
        """The object in the reader's words: 案件附件#3, not cases.CaseFile#3."""
        if not self.object_id:
            return ""
        return f"{_model_name(self.object_type)}#{self.object_id}"

    @property
    def detail_display(self) -> str:
        """The detail with a refused fetch's code name (case_file#3) in the reader's words."""
        name, hash_sign, rest = self.detail.partition("#")
        if hash_sign and name in REFUSED_OBJECT_LABELS:
            return f"{REFUSED_OBJECT_LABELS[name]}#{rest}"
        return self.detail


class Notification(models.Model):
    """An in-app notice to one user; `key` makes each warning unique so a rerun never repeats it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=200)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="unique_notification_key")
        ]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title
