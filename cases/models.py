"""Households, cases and the records the workflow produces.

The case's state changes only through the `@transition` methods of `Case`; the services in
`cases.services` call them inside a locked transaction and write the `CaseEvent`.
Records that someone signed (signatures, reports, assessments, files) are append-only:
a correction is a new row that supersedes the old one.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import Unit, User, Village
from dengkou_aid.errors import NotAllowed
from dengkou_aid.lib.crypto import EncryptedCharField

MONEY = {"max_digits": 12, "decimal_places": 2}


class Kind(models.TextChoices):
    DIBAO = "dibao", "城乡低保"
    MARGINAL = "marginal", "低保边缘家庭"
    TEKUN = "tekun", "特困供养"


class Area(models.TextChoices):
    URBAN = "urban", "城市"
    RURAL = "rural", "农村牧区"


class CareTier(models.TextChoices):
    SELF_CARE = "self_care", "具备生活自理能力"
    PARTIAL = "partial", "部分丧失生活自理能力"
    FULL = "full", "完全丧失生活自理能力"


class ImmutableQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused for signed or archived records."""

    def update(self, **kwargs):
        raise refused_write(self.model, f"{self.model._meta.verbose_name}已签署或归档，不可修改。")

    def delete(self):
        raise refused_write(self.model, f"{self.model._meta.verbose_name}已签署或归档，不可删除。")


def refused_write(model, message: str, obj=None) -> PermissionDenied:
    """Log a refused change of a signed record (PROTECTED_WRITE) and return the error to raise."""
    from accounts.audit import record
    from accounts.models import AuditLog

    label = model._meta.label
    record(AuditLog.Action.PROTECTED_WRITE, obj=obj, detail=f"{label}: {message}")
    return PermissionDenied(message)


class ImmutableModel(models.Model):
    """A record that is written once and never changed or deleted (谁签字，谁负责).

    PostgreSQL refuses the same below the ORM: each table has a trigger refusing UPDATE and
    DELETE (cases 0003 and 0008, disbursement 0008, supervision 0003); a new immutable model
    adds its table to one of those lists in a migration of its own.
    """

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        # Never "HomeVisit object (1)" on a page: the record's Chinese name and number.
        return f"{self._meta.verbose_name}（第{self.pk}号）"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise refused_write(
                type(self),
                f"{self._meta.verbose_name}已签署或归档，不可修改；请新增更正记录。",
                self,
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise refused_write(type(self), f"{self._meta.verbose_name}已签署或归档，不可删除。", self)


class SignedRecord(ImmutableModel):
    """A signature: who, in what role and unit, when, over the digest of what was signed.

    A model whose field reads differently (another verbose name or reverse accessor) declares
    its own, which replaces the one here.
    """

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField("签署人", max_length=50)
    role = models.CharField("岗位", max_length=30)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField("签署时间", default=timezone.now)
    content_hash = models.CharField("所签内容摘要(SHA-256)", max_length=64)

    class Meta:
        abstract = True

    @staticmethod
    def digest(content: dict[str, Any]) -> str:
        """SHA-256 of the content as JSON with sorted keys, so the same content gives one digest."""
        return hashlib.sha256(
            json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()

    @classmethod
    def create_signed(cls, *, signer: User, role: str, over: dict[str, Any], **fields: Any) -> Self:
        """Record who signed, with their name and unit as they are now, and the digest of `over`.

        Every signature of every kind is written here, so this is where 三员分立 is enforced:
        the system administrator and the audit reader sign nothing, whatever roles they hold.
        """
        if not signer.may_sign:
            raise NotAllowed("系统管理员和安全审计员不能签字：三员分立，签字须由业务岗位本人完成。")
        return cls.objects.create(
            signer=signer,
            signer_name=signer.full_name or signer.username,
            role=role,
            unit=signer.unit,
            content_hash=cls.digest(over),
            **fields,
        )


# --- Households and people -------------------------------------------------------------


class Household(models.Model):
    """A household (户) with its registered residence."""

    unit = models.ForeignKey(
        Unit, verbose_name="苏木镇/农场", on_delete=models.PROTECT, related_name="households"
    )
    village = models.ForeignKey(
        Village, verbose_name="嘎查村/社区", on_delete=models.PROTECT, related_name="households"
    )
    area = models.CharField("户籍类别", max_length=10, choices=Area.choices)
    address = models.CharField("居住地址", max_length=200, blank=True)
    import_key = models.CharField("导入户编号", max_length=60, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "家庭"
        verbose_name_plural = "家庭"

    def __str__(self) -> str:
        head = self.head
        return f"{head.name}户" if head else f"家庭#{self.pk}"

    @property
    def head(self) -> Person | None:
        members = getattr(self, "_prefetched_objects_cache", {}).get("members")
        if members is not None:
            return next((m for m in members if m.relation == Relation.HEAD), None)
        return self.members.filter(relation=Relation.HEAD).first()


class Relation(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    GRANDCHILD = "grandchild", "孙子女"
    GRANDPARENT = "grandparent", "祖父母"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER = "other", "其他"


class WorkAbility(models.TextChoices):
    ABLE = "able", "有劳动能力"
    PARTIAL = "partial", "部分丧失劳动能力"
    UNABLE = "unable", "无劳动能力"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class PersonQuerySet(models.QuerySet):
    def active(self) -> PersonQuerySet:
        return self.filter(left_on__isnull=True, removed_at__isnull=True)


class Person(models.Model):
    """A household member. The ID number is stored encrypted; `id_hash` finds and de-duplicates it."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedCharField("公民身份号码")
    id_hash = models.CharField(max_length=64, unique=True, editable=False)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    relation = models.CharField("与户主关系", max_length=20, choices=Relation.choices)
    work_ability = models.CharField(
        "劳动能力", max_length=10, choices=WorkAbility.choices, default=WorkAbility.ABLE
    )
    disability_grade = models.PositiveSmallIntegerField(
        "残疾等级", default=0, help_text="0为无残疾，1-4级"
    )
    illness = EncryptedCharField("患病情况", blank=True, default="")
    income_irregular = models.BooleanField("收入不固定", default=False)
    phone = EncryptedCharField("联系电话", blank=True, default="")
    left_on = models.DateField("迁出/死亡日期", null=True, blank=True)
    left_reason = models.CharField("减员原因", max_length=100, blank=True)
    removed_at = models.DateTimeField("更正移除时间", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "家庭成员"
        verbose_name_plural = "家庭成员"
        ordering = ["household_id", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id(self) -> str:
        from dengkou_aid.lib.idnumber import mask_id_number

        return mask_id_number(self.id_number) if self.id_number else ""

    def age_on(self, day) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class IncomeKind(models.TextChoices):
    WAGE = "wage", "工资性收入"
    BUSINESS = "business", "经营净收入"
    PROPERTY = "property", "财产净收入"
    TRANSFER = "transfer", "转移净收入"
    AWARD = "award", "奖励金及慰问金"
    SPECIAL_CARE = "special_care", "优抚对象抚恤补助金"
    FAMILY_PLANNING = "family_planning", "计划生育奖励扶助金"
    DISABILITY_SUBSIDY = "disability_subsidy", "残疾人两项补贴"
    EDUCATION_AID = "education_aid", "教育救助及奖助学金"
    ELDERLY_ALLOWANCE = "elderly_allowance", "高龄津贴"
    OTHER = "other", "其他收入"


def default_disregarded_income_kinds() -> list[str]:
    """Kinds most counties leave out of household income; the county edits the list."""
    return [
        IncomeKind.AWARD,
        IncomeKind.SPECIAL_CARE,
        IncomeKind.FAMILY_PLANNING,
        IncomeKind.DISABILITY_SUBSIDY,
        IncomeKind.EDUCATION_AID,
        IncomeKind.ELDERLY_ALLOWANCE,
    ]


class Income(models.Model):
    """A member's income of one kind over a period, as a monthly amount."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="incomes")
    kind = models.CharField("收入类型", max_length=20, choices=IncomeKind.choices)
    source = models.CharField("收入来源", max_length=100)
    monthly_amount = models.DecimalField(
        "月均金额（元）", validators=[MinValueValidator(Decimal("0"))], **MONEY
    )
    period_start = models.DateField(
        "起始日期", null=True, blank=True, help_text="不填表示核算期开始前已有此项收入"
    )
    period_end = models.DateField("截止日期", null=True, blank=True)
    months_received = models.PositiveSmallIntegerField(
        "实际领取月数", null=True, blank=True, help_text="季节性收入等：核算期内实际取得的月数"
    )
    exempt = models.BooleanField("不计入家庭收入", default=False)
    exempt_reason = models.CharField("不计入理由", max_length=100, blank=True)
    removed_at = models.DateTimeField("更正移除时间", null=True, blank=True)

    class Meta:
        verbose_name = "收入"
        verbose_name_plural = "收入"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.monthly_amount}"


class AssetKind(models.TextChoices):
    HOUSING = "housing", "房产"
    VEHICLE = "vehicle", "车辆"
    DEPOSIT = "deposit", "存款及有价证券"
    BUSINESS = "business", "经营实体"
    OTHER = "other", "其他财产"


class Asset(models.Model):
    """Household property: housing, vehicles, deposits, business."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="assets")
    kind = models.CharField("财产类型", max_length=20, choices=AssetKind.choices)
    description = models.CharField("备注", max_length=200, blank=True)
    value = models.DecimalField("估值（元）", validators=[MinValueValidator(Decimal("0"))], **MONEY)
    removed_at = models.DateTimeField("更正移除时间", null=True, blank=True)

    class Meta:
        verbose_name = "家庭财产"
        verbose_name_plural = "家庭财产"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.description}"


# --- Policy ------------------------------------------------------------------------------


class StandardKind(models.TextChoices):
    DIBAO = "dibao", "低保标准"
    TEKUN_BASIC = "tekun_basic", "特困人员基本生活标准"
    TEKUN_CARE_FULL = "tekun_care_full", "特困人员照料护理标准（全护理）"
    TEKUN_CARE_PARTIAL = "tekun_care_partial", "特困人员照料护理标准（半护理）"
    TEKUN_CARE_SELF = "tekun_care_self", "特困人员照料护理标准（自理）"


class PolicyStandardQuerySet(models.QuerySet):
    def in_force(self, kind: str, area: str, day) -> PolicyStandard | None:
        return (
            self.filter(kind=kind, area=area, effective_from__lte=day)
            .order_by("-effective_from", "-id")
            .first()
        )


class PolicyStandard(models.Model):
    """A monthly standard in yuan, in force from a date; a change is a new row, history is kept."""

    kind = models.CharField("标准类别", max_length=30, choices=StandardKind.choices)
    area = models.CharField("城乡", max_length=10, choices=Area.choices)
    amount = models.DecimalField(
        "金额（元/月）", validators=[MinValueValidator(Decimal("0"))], **MONEY
    )
    effective_from = models.DateField("执行日期")
    note = models.CharField("依据/说明", max_length=200, blank=True)
    is_demo = models.BooleanField("演示数值", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PolicyStandardQuerySet.as_manager()

    class Meta:
        verbose_name = "保障标准"
        verbose_name_plural = "保障标准"
        ordering = ["kind", "area", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "area", "effective_from"], name="unique_standard_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.get_area_display()}）{self.amount}元 自{self.effective_from}"


class Rounding(models.TextChoices):
    UP_YUAN = "up_yuan", "向上取整到元"
    HALF_UP_YUAN = "half_up_yuan", "四舍五入到元"
    CENT = "cent", "保留到分"


class CountyRules(models.Model):
    """The county's configurable national defaults, in force from a date (history kept)."""

    effective_from = models.DateField("执行日期", unique=True)
    assessment_months = models.PositiveSmallIntegerField("收入核算期（月）", default=12)
    rounding = models.CharField(
        "救助金取整方式", max_length=20, choices=Rounding.choices, default=Rounding.UP_YUAN
    )
    marginal_multiplier = models.DecimalField(
        "低保边缘认定倍数", max_digits=4, decimal_places=2, default=Decimal("1.50")
    )
    publicity_days = models.PositiveSmallIntegerField("公示天数", default=7)
    phase_out_months = models.PositiveSmallIntegerField("渐退期（月）", default=6)
    review_months_stable = models.PositiveSmallIntegerField(
        "收入稳定家庭复核周期（月）", default=12
    )
    review_months_volatile = models.PositiveSmallIntegerField(
        "有劳动能力且收入不固定家庭复核周期（月）", default=6
    )
    rejection_notice_workdays = models.PositiveSmallIntegerField(
        "不予保障告知期限（工作日）", default=3
    )
    minimum_investigators = models.PositiveSmallIntegerField("入户调查最少人数", default=2)
    disregarded_income_kinds = models.JSONField(
        "不计入家庭收入的收入类型", default=default_disregarded_income_kinds, blank=True
    )
    marginal_asset_limit = models.DecimalField(
        "低保边缘家庭人均财产上限（元）",
        null=True,
        blank=True,
        help_text="居住用房不计；不填为不设上限",
        **MONEY,
    )
    note = models.CharField("调整说明", max_length=300, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "县级政策参数"
        verbose_name_plural = "县级政策参数"
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"政策参数（自{self.effective_from}）"

    @classmethod
    def in_force(cls, day=None) -> CountyRules:
        """The rules in force on a day; national defaults when the county has set none."""
        day = day or timezone.localdate()
        return cls.objects.filter(effective_from__lte=day).first() or cls(effective_from=day)


class MaterialRequirement(models.Model):
    """One item of a kind's materials checklist (五(一)3)."""

    kind = models.CharField("救助类别", max_length=20, choices=Kind.choices)
    code = models.CharField("代码", max_length=40)
    name = models.CharField("材料名称", max_length=100)
    required = models.BooleanField("必需", default=True)
    platform_supplied = models.BooleanField("可由政务平台查询（不再要求申请人提供）", default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "申报材料清单项"
        verbose_name_plural = "申报材料清单"
        ordering = ["kind", "order"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="unique_material_per_kind")
        ]

    def __str__(self) -> str:
        return self.name


# --- The case --------------------------------------------------------------------------


class State(models.TextChoices):
    SUBMITTED = "submitted", "已申请"
    ACCEPTED = "accepted", "已受理"
    AUTHORIZED = "authorized", "已签署授权"
    VERIFICATION_REQUESTED = "verification_requested", "已委托核对"
    VERIFIED = "verified", "已出具核对报告"
    VISITED = "visited", "已入户调查"
    ASSESSED = "assessed", "已收入核算"
    IN_PUBLICITY = "in_publicity", "公示中"
    PROPOSED = "proposed", "经办人已提出审核意见"
    OPINION_SIGNED = "opinion_signed", "分管领导已签署意见"
    CONFIRMED = "confirmed", "已审核确认"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "不予保障"
    IN_PAYMENT = "in_payment", "发放中"
    STANDING_PUBLICITY = "standing_publicity", "长期公示中"
    WITHDRAWN = "withdrawn", "已撤回"
    REFUSED = "refused", "不予受理"
    TERMINATED = "terminated", "已终止"


# States in which the 20-working-day clock runs.
CLOCK_STATES = (
    State.ACCEPTED,
    State.AUTHORIZED,
    State.VERIFICATION_REQUESTED,
    State.VERIFIED,
    State.VISITED,
    State.ASSESSED,
    State.IN_PUBLICITY,
    State.PROPOSED,
    State.OPINION_SIGNED,
)
WITHDRAWABLE = (State.SUBMITTED, *CLOCK_STATES)
LIVE_PAYMENT_STATES = (State.IN_PAYMENT, State.STANDING_PUBLICITY)
DECIDED_STATES = (
    State.CONFIRMED,
    State.APPROVED,
    State.REJECTED,
    *LIVE_PAYMENT_STATES,
    State.TERMINATED,
)


class Outcome(models.TextChoices):
    APPROVE = "approve", "批准"
    REJECT = "reject", "不予保障"


def outcome_words(kind: str, outcome: str, *, proposed: bool = False) -> str:
    """The outcome as a person reads it: a marginal family is confirmed (行政确认), never paid;
    a proposal says what it proposes (拟…), so a proposal to reject never reads as 同意."""
    if outcome not in Outcome.values:
        return ""
    if kind == Kind.MARGINAL:
        words = "认定为低保边缘家庭" if outcome == Outcome.APPROVE else "不予认定为低保边缘家庭"
    else:
        words = Outcome(outcome).label
    return f"拟{words}" if proposed else words


class Case(models.Model):
    """One application for one kind of assistance, from filing to standing publicity."""

    number = models.CharField("案件编号", max_length=40, unique=True)
    unit = models.ForeignKey(
        Unit, verbose_name="审核确认单位", on_delete=models.PROTECT, related_name="cases"
    )
    village = models.ForeignKey(
        Village, verbose_name="嘎查村/社区", on_delete=models.PROTECT, related_name="cases"
    )
    household = models.ForeignKey(
        Household, verbose_name="家庭", on_delete=models.PROTECT, related_name="cases"
    )
    applicant = models.ForeignKey(
        Person, verbose_name="申请人", on_delete=models.PROTECT, related_name="applications"
    )
    kind = models.CharField("救助类别", max_length=20, choices=Kind.choices)
    area = models.CharField("城乡", max_length=10, choices=Area.choices)
    state = FSMField(
        "状态", default=State.SUBMITTED, choices=State.choices, protected=True, db_index=True
    )
    version = models.PositiveIntegerField(default=0, help_text="乐观锁版本号")

    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_cases",
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filed_cases",
    )
    entrusted = models.BooleanField("委托申请", default=False)
    entrusted_reason = models.CharField("委托申请原因", max_length=200, blank=True)
    agency = models.ForeignKey(
        Unit,
        verbose_name="第三方入户调查机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    imported = models.BooleanField("存量导入", default=False)

    submitted_at = models.DateTimeField("申请时间", default=timezone.now)
    accepted_on = models.DateField("受理日期", null=True, blank=True)
    due_date = models.DateField("办结期限", null=True, blank=True, db_index=True)
    deadline_provisional = models.BooleanField("期限按工作日暂定", default=False)
    extended = models.BooleanField("已延期", default=False)
    extension_reason = models.CharField("延期理由", max_length=300, blank=True)
    decided_on = models.DateField("审核确认日期", null=True, blank=True)
    decided_on_time = models.BooleanField("按期办结", null=True, blank=True)
    outcome = models.CharField("审核确认结果", max_length=10, choices=Outcome.choices, blank=True)
    care_tier = models.CharField(
        "照料护理等级", max_length=20, choices=CareTier.choices, blank=True
    )
    monthly_amount = models.DecimalField("月救助金额（元）", null=True, blank=True, **MONEY)

    refusal_reason = models.CharField("不予受理理由", max_length=300, blank=True)
    rejection_reason = models.TextField("不予保障理由", blank=True)
    withdrawal_reason = models.CharField("撤回理由", max_length=300, blank=True)
    termination_reason = models.CharField("终止理由", max_length=300, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "救助案件"
        verbose_name_plural = "救助案件"
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "state"]),
            models.Index(fields=["unit", "due_date"]),
            models.Index(fields=["village", "state"]),
            models.Index(fields=["unit", "decided_on"]),
            # The township list's default order: its first page reads 50 index entries, not the unit.
            models.Index(fields=["unit", "-submitted_at", "-id"], name="case_unit_recent"),
            # The same order for the county's staff, whose list spans every unit.
            models.Index(fields=["-submitted_at", "-id"], name="case_recent"),
            models.Index(fields=["decided_on"], name="case_decided_on"),
        ]
        permissions = [("visit_case", "可为分派的案件录入入户调查")]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def clock_running(self) -> bool:
        return self.state in CLOCK_STATES and self.due_date is not None

    # Transition bodies set fields and nothing else; services add the records around them.

    @transition(field=state, source=State.SUBMITTED, target=State.ACCEPTED)
    def accept(self, *, on, due_date, provisional: bool) -> None:
        self.accepted_on = on
        self.due_date = due_date
        self.deadline_provisional = provisional

    @transition(field=state, source=State.SUBMITTED, target=State.REFUSED)
    def refuse(self, *, reason: str) -> None:
        self.refusal_reason = reason

    @transition(field=state, source=WITHDRAWABLE, target=State.WITHDRAWN)
    def withdraw(self, *, reason: str) -> None:
        self.withdrawal_reason = reason

    @transition(field=state, source=State.ACCEPTED, target=State.AUTHORIZED)
    def authorize(self) -> None:
        pass

    @transition(field=state, source=State.AUTHORIZED, target=State.VERIFICATION_REQUESTED)
    def request_verification(self) -> None:
        pass

    @transition(field=state, source=State.VERIFICATION_REQUESTED, target=State.VERIFIED)
    def record_verification(self) -> None:
        pass

    @transition(field=state, source=State.VERIFIED, target=State.VISITED)
    def record_visit(self) -> None:
        pass

    @transition(field=state, source=(State.VISITED, State.ASSESSED), target=State.ASSESSED)
    def assess(self, *, amount, care_tier: str) -> None:
        self.monthly_amount = amount
        self.care_tier = care_tier

    @transition(field=state, source=State.ASSESSED, target=State.IN_PUBLICITY)
    def publish(self) -> None:
        pass

    @transition(
        field=state,
        source=(State.IN_PUBLICITY, State.PROPOSED, State.OPINION_SIGNED),
        target=State.VERIFIED,
    )
    def reopen_visit(self) -> None:
        """A substantiated objection sends the case back to the home visit."""

    # From ASSESSED only for a plainly ineligible case proposed for non-approval, which has
    # no publicity (cases.ineligible; the service checks it).
    @transition(field=state, source=(State.IN_PUBLICITY, State.ASSESSED), target=State.PROPOSED)
    def propose(self, *, outcome: str) -> None:
        self.outcome = outcome

    @transition(field=state, source=State.PROPOSED, target=State.OPINION_SIGNED)
    def sign_opinion(self) -> None:
        pass

    @transition(field=state, source=(State.PROPOSED, State.OPINION_SIGNED), target=State.ASSESSED)
    def send_back(self) -> None:
        """A leader disagrees: the handler reworks the assessment and proposes again."""
        self.outcome = ""

    @transition(field=state, source=State.OPINION_SIGNED, target=State.CONFIRMED)
    def confirm(self, *, outcome: str, on, on_time: bool, reason: str = "") -> None:
        self.outcome = outcome
        self.decided_on = on
        self.decided_on_time = on_time
        if outcome == Outcome.REJECT:
            self.rejection_reason = reason

    @transition(
        field=state,
        source=State.CONFIRMED,
        target=State.APPROVED,
        conditions=[lambda c: c.outcome == Outcome.APPROVE],
    )
    def issue_approval(self) -> None:
        pass

    @transition(
        field=state,
        source=State.CONFIRMED,
        target=State.REJECTED,
        conditions=[lambda c: c.outcome == Outcome.REJECT],
    )
    def issue_rejection(self) -> None:
        pass

    @transition(field=state, source=State.APPROVED, target=State.IN_PAYMENT)
    def start_payment(self) -> None:
        pass

    @transition(field=state, source=State.IN_PAYMENT, target=State.STANDING_PUBLICITY)
    def publish_standing(self) -> None:
        pass

    @transition(field=state, source=(State.APPROVED, *LIVE_PAYMENT_STATES), target=State.TERMINATED)
    def terminate(self, *, reason: str) -> None:
        self.termination_reason = reason


class CaseEvent(ImmutableModel):
    """One entry of a case's timeline: a transition or a change of a signed record."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField("序号")
    at = models.DateTimeField("时间", default=timezone.now)
    action = models.CharField("事项", max_length=40)
    label = models.CharField("说明", max_length=100)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField("岗位", max_length=30, blank=True)
    actor_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField("意见/备注", blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "案件事件"
        verbose_name_plural = "案件事件"
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="unique_event_seq")]
        indexes = [models.Index(fields=["action", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.label}"


class FactSubject(models.TextChoices):
    MEMBER = "member", "家庭成员"
    INCOME = "income", "收入"
    ASSET = "asset", "家庭财产"


class FactOperation(models.TextChoices):
    ADD = "add", "新增"
    CHANGE = "change", "修改"
    REMOVE = "remove", "移除"


class FactChannel(models.TextChoices):
    CASE = "case", "申请审核中更正"
    CHANGE_REPORT = "change_report", "变更报告"
    REVIEW = "review", "定期复核入户调查"


class FactChange(ImmutableModel):
    """One version of a household fact: who changed what, when, why, and how it read before and after.

    The member, income and asset rows hold the current version; these rows are their history,
    written by `cases.facts.services.record_fact_change` only.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="fact_changes")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="fact_changes")
    subject = models.CharField("对象", max_length=10, choices=FactSubject.choices)
    operation = models.CharField("操作", max_length=10, choices=FactOperation.choices)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    income = models.ForeignKey(
        Income, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(
        "途径", max_length=20, choices=FactChannel.choices, default=FactChannel.CASE
    )
    channel_ref = models.PositiveIntegerField("复核或变更报告编号", null=True, blank=True)
    reason = models.TextField("更正理由")
    before = models.JSONField("修改前", default=dict, blank=True)
    after = models.JSONField("修改后", default=dict, blank=True)
    case_version = models.PositiveIntegerField("更正时案件版本")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField("岗位", max_length=30)
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "家庭信息更正记录"
        verbose_name_plural = "家庭信息更正记录"
        ordering = ["case_id", "at", "id"]
        indexes = [models.Index(fields=["household", "at"])]

    def __str__(self) -> str:
        return f"{self.get_operation_display()}{self.get_subject_display()}"


class SignatureStep(models.TextChoices):
    PROPOSAL = "proposal", "经办人审核意见"
    OPINION = "opinion", "分管领导审核意见"
    DECISION = "decision", "第一责任人审核确认"
    EXTENSION = "extension", "延期审批"
    REVOCATION = "revocation", "撤销审核确认"


class Opinion(models.TextChoices):
    AGREE = "agree", "同意"
    DISAGREE = "disagree", "不同意"


class Signature(SignedRecord):
    """A signed act: who, in what role and unit, when, with what opinion, over what content."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="signatures")
    step = models.CharField("签署环节", max_length=20, choices=SignatureStep.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    opinion = models.CharField("意见", max_length=10, choices=Opinion.choices, blank=True)
    text = models.TextField("意见内容", blank=True)
    content = models.JSONField("所签内容", default=dict)

    class Meta:
        verbose_name = "签署记录"
        verbose_name_plural = "签署记录"
        ordering = ["case_id", "signed_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_step_display()} · {self.signer_name}"

    @property
    def is_void(self) -> bool:
        return hasattr(self, "void")

    @property
    def verdict(self) -> str:
        """What was signed, in words: the outcome of a proposal or decision, else the opinion."""
        content = self.content or {}
        if self.step in (SignatureStep.PROPOSAL, SignatureStep.DECISION):
            words = outcome_words(
                content.get("kind", ""),
                content.get("outcome", ""),
                proposed=self.step == SignatureStep.PROPOSAL,
            )
            if words:
                return words
        return self.get_opinion_display() if self.opinion else ""


class SignatureVoid(ImmutableModel):
    """Marks a signature as no longer valid because the case changed after it."""

    signature = models.OneToOneField(Signature, on_delete=models.PROTECT, related_name="void")
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField("作废原因", max_length=300)

    class Meta:
        verbose_name = "签署作废记录"
        verbose_name_plural = "签署作废记录"


class ApplicantConsent(ImmutableModel):
    """The signed integrity declaration and verification authorization (scans or on screen)."""

    class Method(models.TextChoices):
        SCAN = "scan", "上传签字扫描件"
        ON_SCREEN = "on_screen", "现场屏幕签字"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consents")
    method = models.CharField("签署方式", max_length=20, choices=Method.choices)
    signed_on = models.DateField("签署日期")
    signers = models.CharField("签署人（申请人及成年家庭成员）", max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "诚信声明及核对授权"
        verbose_name_plural = "诚信声明及核对授权"


class VerificationRequest(ImmutableModel):
    """The unit's entrustment of the economic-status check to the county centre."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="verification_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    note = models.TextField("委托说明", blank=True)

    class Meta:
        verbose_name = "家庭经济状况核对委托"
        verbose_name_plural = "家庭经济状况核对委托"
        ordering = ["requested_at", "id"]


# The agencies whose records the county's verification centre checks, one finding row each.
VERIFICATION_AGENCIES = (
    "民政（婚姻登记、殡葬、其他救助）",
    "住房和城乡建设（不动产登记）",
    "公安（户籍、机动车）",
    "银行等金融机构（存款、理财）",
    "市场监督管理（经营主体登记）",
    "人力资源和社会保障（社保缴费、养老金）",
    "税务（纳税记录）",
    "住房公积金",
)


class VerificationReport(ImmutableModel):
    """The county centre's report: findings per agency, and whether anything disqualifies."""

    request = models.OneToOneField(
        VerificationRequest, on_delete=models.PROTECT, related_name="report"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(default=timezone.now)
    findings = models.JSONField(
        "各部门核对结果", default=list, help_text="[{agency, found, result}]"
    )
    summary = models.TextField("核对结论")
    disqualifying = models.BooleanField("发现不符合条件的收入或财产", default=False)

    class Meta:
        verbose_name = "家庭经济状况核对报告"
        verbose_name_plural = "家庭经济状况核对报告"

    @property
    def finding_rows(self) -> list[dict[str, str]]:
        """Each agency's result as a person reads it: 发现/未发现 and what."""
        rows = []
        for item in self.findings or []:
            found = item.get("found")
            verdict = "发现记录" if found is True else "未发现" if found is False else ""
            rows.append(
                {
                    "agency": str(item.get("agency", "")),
                    "verdict": verdict,
                    "result": str(item.get("result", "")),
                }
            )
        return rows


class HomeVisit(ImmutableModel):
    """A home visit by at least two investigators (national rule), with findings."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="home_visits")
    visited_on = models.DateField("调查日期")
    investigators = models.JSONField("调查人员", default=list, help_text="[{name, kind}]")
    findings = models.TextField("调查情况")
    living_conditions = models.TextField("居住及生活状况", blank=True)
    agency = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "入户调查记录"
        verbose_name_plural = "入户调查记录"
        ordering = ["recorded_at", "id"]


class DemocraticAppraisal(ImmutableModel):
    """Minutes of a village democratic appraisal (民主评议), where one is held."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="appraisals")
    held_on = models.DateField("评议日期")
    attendees = models.PositiveSmallIntegerField("参加人数")
    minutes = models.TextField("会议记录")
    result = models.CharField("评议结果", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "民主评议记录"
        verbose_name_plural = "民主评议记录"


class IncomeAssessment(ImmutableModel):
    """The stored income calculation with its working; a new assessment supersedes the old."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    basis_date = models.DateField("核算基准日")
    period_months = models.PositiveSmallIntegerField("核算期（月）")
    household_size = models.PositiveSmallIntegerField("家庭人口")
    total_monthly_income = models.DecimalField("家庭月收入合计", **MONEY)
    exempt_monthly_income = models.DecimalField("不计入收入", **MONEY)
    counted_monthly_income = models.DecimalField("计入家庭月收入", **MONEY)
    per_capita_income = models.DecimalField("月人均收入", max_digits=12, decimal_places=4)
    standard = models.ForeignKey(PolicyStandard, on_delete=models.PROTECT, related_name="+")
    standard_amount = models.DecimalField("适用标准", **MONEY)
    care_tier = models.CharField(
        "照料护理等级", max_length=20, choices=CareTier.choices, blank=True
    )
    care_amount = models.DecimalField("照料护理金额", default=Decimal("0"), **MONEY)
    eligible = models.BooleanField("符合条件")
    amount = models.DecimalField("月救助金额", **MONEY)
    working = models.JSONField("核算过程", default=dict)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "收入核算"
        verbose_name_plural = "收入核算"
        ordering = ["assessed_at", "id"]


class Publicity(ImmutableModel):
    """The 7-day publicity in the village before confirmation."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="publicities")
    starts_on = models.DateField("公示开始")
    ends_on = models.DateField("公示结束")
    location = models.CharField("张贴地点", max_length=200)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "审核确认公示"
        verbose_name_plural = "审核确认公示"
        ordering = ["posted_at", "id"]


class Objection(models.Model):
    """An objection raised during publicity; its resolution is recorded once."""

    publicity = models.ForeignKey(Publicity, on_delete=models.PROTECT, related_name="objections")
    received_on = models.DateField("收到日期")
    content = models.TextField("异议内容")
    raised_by = models.CharField("提出人（可匿名）", max_length=50, blank=True)
    substantiated = models.BooleanField("异议成立", null=True, blank=True)
    resolution = models.TextField("核实结论", blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"

    def __str__(self) -> str:
        return self.content[:30]


class FileCategory(models.TextChoices):
    MATERIAL = "material", "申报材料"
    CONSENT = "consent", "诚信声明/核对授权书签字件"
    PHOTO = "photo", "入户调查照片"
    MINUTES = "minutes", "民主评议记录"
    LEGACY = "legacy", "原纸质档案扫描件"
    OTHER = "other", "其他"


class CaseFile(ImmutableModel):
    """An uploaded file of a case's archive; type checked by content, never replaced in place."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="files")
    category = models.CharField("类别", max_length=20, choices=FileCategory.choices)
    requirement = models.ForeignKey(
        MaterialRequirement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField("文件", upload_to="cases/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=200)
    mime = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.CharField("更正理由", max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "案件附件"
        verbose_name_plural = "案件附件"
        ordering = ["uploaded_at", "id"]


# --- Documents, archives, handover, retention, service guides -------------------------


class DocType(models.TextChoices):
    CONSENT_FORM = "consent_form", "社会救助诚信声明及家庭经济状况核对授权书"
    VERIFICATION_LETTER = "verification_letter", "家庭经济状况核对委托函"
    HOME_VISIT = "home_visit", "入户调查记录表"
    INCOME_SHEET = "income_sheet", "家庭收入核算表"
    PUBLICITY_NOTICE = "publicity_notice", "审核确认公示"
    APPROVAL_DECISION = "approval_decision", "批准决定书"
    REJECTION_NOTICE = "rejection_notice", "不予保障告知书"
    ADJUSTMENT_NOTICE = "adjustment_notice", "调整(停发)告知书"
    REFUSAL_NOTICE = "refusal_notice", "不予受理通知书"
    VILLAGE_PUBLICITY = "village_publicity", "审核确认公示（本村汇总）"


class CaseNumberCounter(models.Model):
    """The last case number issued per unit and year; locked while a number is taken."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "案件编号序列"
        verbose_name_plural = "案件编号序列"
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="unique_case_number_counter")
        ]


class DocumentSequence(models.Model):
    """The last number issued per unit, document type and year; locked while a number is taken."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    doc_type = models.CharField(max_length=30, choices=DocType.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "文书编号序列"
        verbose_name_plural = "文书编号序列"
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "doc_type", "year"], name="unique_document_sequence"
            )
        ]


class Document(ImmutableModel):
    """An issued, numbered document; the stored PDF is the document. A reissue is a new row."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    unit = models.ForeignKey(
        Unit, verbose_name="出具单位", on_delete=models.PROTECT, related_name="+"
    )
    doc_type = models.CharField("文书类别", max_length=30, choices=DocType.choices)
    year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("序号")
    number = models.CharField("文号", max_length=80, unique=True)
    file = models.FileField("文件", upload_to="documents/%Y/")
    sha256 = models.CharField(max_length=64)
    generated_at = models.DateTimeField("出具时间", default=timezone.now)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="出具人", on_delete=models.PROTECT, related_name="+"
    )
    replaces = models.ForeignKey(
        "self",
        verbose_name="替代文书",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    reason = models.CharField("重新出具理由", max_length=300, blank=True)
    context = models.JSONField("出具时内容", default=dict)

    class Meta:
        verbose_name = "文书"
        verbose_name_plural = "文书"
        ordering = ["generated_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "doc_type", "year", "seq"], name="unique_document_seq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} {self.number}"


class RetentionRule(models.Model):
    """How many years a closed case's archive is kept, per kind; set by the county."""

    kind = models.CharField("救助类别", max_length=20, choices=Kind.choices, unique=True)
    years = models.PositiveSmallIntegerField("保管期限（年）", validators=[MinValueValidator(1)])
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "档案保管期限"
        verbose_name_plural = "档案保管期限"
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.years}年"


class ArchiveDestruction(SignedRecord):
    """A signed decision to destroy an expired archive; the system itself destroys nothing."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="destruction")
    expired_on = models.DateField("保管期满日期")
    reason = models.TextField("销毁理由及依据")

    class Meta:
        verbose_name = "档案销毁记录"
        verbose_name_plural = "档案销毁记录"
        ordering = ["signed_at", "id"]


class Handover(models.Model):
    """An archive handover (档案移交) between handlers; complete once all three parties signed."""

    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    from_handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="移交人", on_delete=models.PROTECT, related_name="+"
    )
    to_handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.PROTECT, related_name="+"
    )
    cases = models.ManyToManyField(Case, verbose_name="移交案件档案", related_name="handovers")
    note = models.TextField("移交说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "档案移交"
        verbose_name_plural = "档案移交"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"档案移交#{self.pk}"


class HandoverParty(models.TextChoices):
    FROM_HANDLER = "from_handler", "移交人"
    TO_HANDLER = "to_handler", "接收人"
    LEADER = "leader", "监交人（直接责任人）"


class HandoverSignature(SignedRecord):
    """One party's signature on a handover, over the list of cases as shown."""

    handover = models.ForeignKey(Handover, on_delete=models.PROTECT, related_name="signatures")
    party = models.CharField("签署方", max_length=20, choices=HandoverParty.choices)

    class Meta:
        verbose_name = "档案移交签署"
        verbose_name_plural = "档案移交签署"
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["handover", "party"], name="unique_handover_party")
        ]


class ServiceGuide(models.Model):
    """An approval unit's public service guide for one kind of assistance (seed 七(三))."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="service_guides")
    kind = models.CharField("救助类别", max_length=20, choices=Kind.choices)
    conditions = models.TextField("审核确认条件")
    procedure = models.TextField("办理程序")
    materials = models.TextField("申报材料")
    time_limit = models.TextField("承诺时限")
    contacts = models.TextField("咨询及监督电话")
    notes = models.TextField("注意事项", blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "办事指南"
        verbose_name_plural = "办事指南"
        ordering = ["unit", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind"], name="unique_guide_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_kind_display()}办事指南"


# --- Working-day calendar and monthly cut-offs ------------------------------------------


class WorkdayOverride(models.Model):
    """One day the county administrator has entered: it wins over the chinese_calendar package."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    name = models.CharField(
        "名称", max_length=100, blank=True, help_text="如：春节、国庆节调休上班"
    )
    source = models.CharField("依据/来源", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("录入时间", default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "工作日调整"
        verbose_name_plural = "工作日调整（节假日与调休）"
        ordering = ["date"]

    def __str__(self) -> str:
        kind = "工作日" if self.is_workday else "休息日"
        return f"{self.date:%Y-%m-%d} {kind} {self.name}".strip()

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        _calendar_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        _calendar_changed()
        return result


class CalendarYear(models.Model):
    """A year whose holidays the administrator has entered completely: its deadlines are final."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    complete = models.BooleanField(
        "已完整录入", default=False, help_text="该年度国务院节假日安排已全部录入，期限不再暂定"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "节假日年度"
        verbose_name_plural = "节假日年度"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}年（{'已完整录入' if self.complete else '未完整录入'}）"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        _calendar_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        _calendar_changed()
        return result


def _calendar_changed() -> None:
    from .deadlines.cache import invalidate

    invalidate()


class RosterWindowLeave(models.Model):
    """The county's leave for a unit to submit a month's payment roster after the 25th."""

    unit = models.ForeignKey(
        Unit, verbose_name="审核确认单位", on_delete=models.PROTECT, related_name="roster_leaves"
    )
    month = models.DateField("发放月份", help_text="清册所属发放月份（该月1日）")
    until = models.DateField("准予报送至")
    reason = models.CharField("理由", max_length=300)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="批准人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField("批准时间", default=timezone.now)

    class Meta:
        verbose_name = "清册延期报送许可"
        verbose_name_plural = "清册延期报送许可"
        ordering = ["-month", "unit"]
        indexes = [models.Index(fields=["unit", "until"])]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y年%m月}清册 延至{self.until:%m月%d日}"


# The tablet feature keeps its models in its folder; imported here so the app registers them.
from .tablet.models import GlassSignature, TabletSync  # noqa: E402, F401
