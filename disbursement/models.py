"""Entitlements, monthly payment rosters, the county's fund request and the yearly plan.

An approved case becomes one `Entitlement`. Its amount is never edited in place: every
start, increase, decrease and stop is an `EntitlementChange` effective from a month, and
the amount in force for month M is the `new_amount` of the latest change effective on or
before M (0 after a stop). A roster freezes those amounts into `RosterLine` rows; once a
roster is submitted neither it nor its lines change again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import Unit, Village
from cases.models import (
    MONEY,
    Area,
    AssetKind,
    CareTier,
    Case,
    Household,
    ImmutableModel,
    IncomeKind,
    Kind,
    Person,
    Relation,
    SignedRecord,
    WorkAbility,
)
from dengkou_aid.errors import Immutable
from dengkou_aid.lib.crypto import EncryptedCharField


class Category(models.TextChoices):
    """The roster's subtotal lines (五(二)2(2)): dibao by area, tekun by care tier, marginal."""

    DIBAO_URBAN = "dibao_urban", "城市低保"
    DIBAO_RURAL = "dibao_rural", "农村牧区低保"
    TEKUN_SELF_CARE = "tekun_self_care", "特困供养（生活自理）"
    TEKUN_PARTIAL = "tekun_partial", "特困供养（部分丧失自理能力）"
    TEKUN_FULL = "tekun_full", "特困供养（完全丧失自理能力）"
    MARGINAL = "marginal", "低保边缘家庭"


def category_for(kind: str, area: str, care_tier: str) -> str:
    if kind == Kind.DIBAO:
        return Category.DIBAO_URBAN if area == Area.URBAN else Category.DIBAO_RURAL
    if kind == Kind.TEKUN:
        return {
            CareTier.FULL: Category.TEKUN_FULL,
            CareTier.PARTIAL: Category.TEKUN_PARTIAL,
        }.get(care_tier, Category.TEKUN_SELF_CARE)
    return Category.MARGINAL


class AccountKind(models.TextChoices):
    BANK_CARD = "bank_card", "银行卡"
    SOCIAL_SECURITY = "social_security", "社会保障卡账户"


# --- Entitlements ------------------------------------------------------------------------


class Entitlement(models.Model):
    """An approved case's monthly payment and the account it is paid into."""

    case = models.OneToOneField(
        Case, verbose_name="救助案件", on_delete=models.PROTECT, related_name="entitlement"
    )
    household = models.ForeignKey(
        Household, verbose_name="家庭", on_delete=models.PROTECT, related_name="entitlements"
    )
    unit = models.ForeignKey(
        Unit, verbose_name="审核确认单位", on_delete=models.PROTECT, related_name="entitlements"
    )
    village = models.ForeignKey(
        Village, verbose_name="嘎查村/社区", on_delete=models.PROTECT, related_name="entitlements"
    )
    kind = models.CharField("救助类别", max_length=20, choices=Kind.choices)
    area = models.CharField("城乡", max_length=10, choices=Area.choices)
    care_tier = models.CharField(
        "照料护理等级", max_length=20, choices=CareTier.choices, blank=True
    )
    category = models.CharField("清册分类", max_length=20, choices=Category.choices)
    monthly_amount = models.DecimalField(
        "现行月救助金额（元）", help_text="最近一次变更后的金额；按月金额以变更记录为准", **MONEY
    )
    start_month = models.DateField("起始发放月份")
    end_month = models.DateField("最后发放月份", null=True, blank=True)
    # The effective month of the latest change, written with monthly_amount by the services:
    # from that month on the amount in force is monthly_amount, without reading the changes.
    # Null (rows written elsewhere) means "read the changes".
    amount_since = models.DateField("现行金额生效月份", null=True, blank=True, editable=False)

    account_kind = models.CharField("账户类型", max_length=20, choices=AccountKind.choices)
    account_number = EncryptedCharField("账号")
    account_hash = models.CharField(max_length=64, db_index=True, editable=False)
    account_masked = models.CharField("账号（脱敏）", max_length=40, editable=False)
    bank_name = models.CharField("开户银行", max_length=100)
    holder_name = models.CharField("账户户名", max_length=50)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "救助金待遇"
        verbose_name_plural = "救助金待遇"
        ordering = ["unit_id", "id"]
        indexes = [models.Index(fields=["unit", "start_month", "end_month"])]

    def __str__(self) -> str:
        return f"{self.holder_name} {self.get_category_display()} {self.monthly_amount}元"


class ChangeKind(models.TextChoices):
    START = "start", "开始发放"
    INCREASE = "increase", "增发"
    DECREASE = "decrease", "减发"
    STOP = "stop", "停发"


class ChangeSource(models.TextChoices):
    DECISION = "decision", "审核确认"
    REVIEW = "review", "定期复核"
    CHANGE_REPORT = "change_report", "家庭情况变化"
    COMPARISON = "comparison", "核查比对"
    REVOCATION = "revocation", "撤销审核确认"
    DEATH = "death", "死亡"
    PHASE_OUT = "phase_out", "渐退期满"
    IMPORT = "import", "存量数据导入"
    CORRECTION = "correction", "更正"


class EntitlementChange(ImmutableModel):
    """A start, increase, decrease or stop in force from a month; never edited."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="changes")
    effective_month = models.DateField("生效月份")
    kind = models.CharField("变更类型", max_length=10, choices=ChangeKind.choices)
    old_amount = models.DecimalField("原金额", **MONEY)
    new_amount = models.DecimalField("新金额", **MONEY)
    reason = models.CharField("原因", max_length=300)
    source = models.CharField("依据", max_length=20, choices=ChangeSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "待遇变更记录"
        verbose_name_plural = "待遇变更记录"
        ordering = ["entitlement_id", "effective_month", "id"]
        indexes = [
            models.Index(fields=["entitlement", "effective_month", "id"]),
            models.Index(fields=["kind", "effective_month"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.old_amount}→{self.new_amount} 自{self.effective_month:%Y-%m}"


# --- Rosters -----------------------------------------------------------------------------


class RosterKind(models.TextChoices):
    REGULAR = "regular", "正常发放"
    SUPPLEMENTARY = "supplementary", "补发/更正"


class RosterState(models.TextChoices):
    PREPARED = "prepared", "已编制"
    SIGNED = "signed", "已签字"
    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回"
    ACCEPTED = "accepted", "县局已审核"
    DISCARDED = "discarded", "已作废"


# A draft (prepared or signed, not yet submitted) may still be regenerated or discarded.
DRAFT_STATES = (RosterState.PREPARED, RosterState.SIGNED)
# A discarded supplementary draft is kept for the record, frozen like a submitted roster.
FROZEN_STATES = (
    RosterState.SUBMITTED,
    RosterState.RETURNED,
    RosterState.ACCEPTED,
    RosterState.DISCARDED,
)
# What the county counts and sends to finance: only rosters the unit has submitted.
SUBMITTED_STATES = (RosterState.SUBMITTED, RosterState.ACCEPTED)
# What the county may still write on a frozen roster: its verdict, nothing of the content.
COUNTY_VERDICT_FIELDS = frozenset(
    {"state", "returned_reason", "decided_by", "decided_at", "updated_at"}
)


class RosterQuerySet(models.QuerySet):
    def live(self) -> RosterQuerySet:
        """Rosters that count for payment: every one except the returned and the discarded."""
        return self.exclude(state__in=(RosterState.RETURNED, RosterState.DISCARDED))

    def submitted(self) -> RosterQuerySet:
        """Rosters the unit has submitted (and the county has not returned)."""
        return self.filter(state__in=SUBMITTED_STATES)

    def frozen(self) -> RosterQuerySet:
        return self.filter(state__in=FROZEN_STATES)

    def update(self, **kwargs):
        if set(kwargs) - COUNTY_VERDICT_FIELDS and self.frozen().exists():
            raise Immutable("已报送的发放清册不可修改；如需更正请编制补发清册。")
        return super().update(**kwargs)

    def delete(self):
        if self.frozen().exists():
            raise Immutable("已报送的发放清册不可删除。")
        return super().delete()


class PaymentRoster(models.Model):
    """A unit's payment roster (资金发放清册) for one month: regular, or supplementary with a reason."""

    unit = models.ForeignKey(
        Unit, verbose_name="审核确认单位", on_delete=models.PROTECT, related_name="rosters"
    )
    month = models.DateField("发放月份")
    kind = models.CharField(
        "清册类型", max_length=20, choices=RosterKind.choices, default=RosterKind.REGULAR
    )
    reason = models.CharField("补发/更正原因", max_length=300, blank=True)
    state = FSMField(
        "状态", default=RosterState.PREPARED, choices=RosterState.choices, protected=True
    )
    round = models.PositiveIntegerField(
        "编制轮次", default=1, help_text="内容重新生成后加一，之前的签字失效"
    )
    line_count = models.PositiveIntegerField("人数（户数）", default=0)
    total_amount = models.DecimalField("金额合计（元）", default=0, **MONEY)
    subtotals = models.JSONField(
        "分类小计",
        default=dict,
        blank=True,
        help_text='{类别: [户数, "金额"]}，与清册行同时写入，清册报送后随之冻结',
    )
    generated_at = models.DateTimeField("生成时间", default=timezone.now)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_reason = models.CharField("退回原因", max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("县局处理时间", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RosterQuerySet.as_manager()

    class Meta:
        verbose_name = "资金发放清册"
        verbose_name_plural = "资金发放清册"
        ordering = ["-month", "unit__code", "id"]
        constraints = [
            # One live regular roster per unit and month; a returned one stays as a record.
            models.UniqueConstraint(
                fields=["unit", "month"],
                condition=Q(kind="regular") & ~Q(state="returned"),
                name="one_live_regular_roster_per_unit_month",
            ),
            models.CheckConstraint(
                condition=Q(kind="regular") | ~Q(reason=""),
                name="supplementary_roster_has_reason",
            ),
            # One open (unsubmitted, undiscarded) supplementary draft per unit and month.
            models.UniqueConstraint(
                fields=["unit", "month"],
                condition=Q(kind="supplementary") & Q(state__in=("prepared", "signed")),
                name="one_open_supplementary_roster_per_unit_month",
            ),
            models.CheckConstraint(
                condition=~Q(state="discarded") | Q(kind="supplementary"),
                name="only_supplementary_roster_discarded",
            ),
        ]
        indexes = [models.Index(fields=["month", "state"])]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y年%m月} {self.get_kind_display()}清册"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and self._frozen_in_db():
            fields = set(kwargs.get("update_fields") or ["*"])
            if not fields <= COUNTY_VERDICT_FIELDS:
                raise Immutable("已报送的发放清册不可修改；如需更正请编制补发清册。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk is not None and self._frozen_in_db():
            raise Immutable("已报送的发放清册不可删除。")
        return super().delete(*args, **kwargs)

    def refresh_from_db(self, *args, **kwargs) -> None:
        # The protected FSM field refuses assignment once loaded; reloading is not a transition.
        self.__dict__.pop("state", None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def is_frozen(self) -> bool:
        return self.state in FROZEN_STATES

    def _frozen_in_db(self) -> bool:
        return PaymentRoster.objects.filter(pk=self.pk, state__in=FROZEN_STATES).exists()

    # Transition bodies set fields and nothing else; disbursement.services does the rest.

    @transition(field=state, source=RosterState.PREPARED, target=RosterState.SIGNED)
    def complete_signatures(self) -> None:
        pass

    @transition(
        field=state, source=(RosterState.PREPARED, RosterState.SIGNED), target=RosterState.PREPARED
    )
    def regenerate(self) -> None:
        self.round += 1
        self.generated_at = timezone.now()

    @transition(field=state, source=DRAFT_STATES, target=RosterState.DISCARDED)
    def discard(self) -> None:
        pass

    @transition(field=state, source=RosterState.SIGNED, target=RosterState.SUBMITTED)
    def submit(self, *, by) -> None:
        self.submitted_by = by
        self.submitted_at = timezone.now()

    @transition(field=state, source=RosterState.SUBMITTED, target=RosterState.RETURNED)
    def send_back(self, *, by, reason: str) -> None:
        self.returned_reason = reason
        self.decided_by = by
        self.decided_at = timezone.now()

    @transition(field=state, source=RosterState.SUBMITTED, target=RosterState.ACCEPTED)
    def accept(self, *, by) -> None:
        self.decided_by = by
        self.decided_at = timezone.now()


class RosterLineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(roster__state__in=FROZEN_STATES).exists():
            raise Immutable("已报送清册的明细不可修改。")
        return super().update(**kwargs)

    def delete(self):
        if self.filter(roster__state__in=FROZEN_STATES).exists():
            raise Immutable("已报送清册的明细不可删除。")
        return super().delete()


class RosterLine(models.Model):
    """One payment of a roster, frozen from the entitlement as it stood when the roster was made."""

    roster = models.ForeignKey(PaymentRoster, on_delete=models.PROTECT, related_name="lines")
    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, related_name="roster_lines"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("救助类别", max_length=20, choices=Kind.choices)
    area = models.CharField("城乡", max_length=10, choices=Area.choices)
    care_tier = models.CharField("照料护理等级", max_length=20, blank=True)
    category = models.CharField("清册分类", max_length=20, choices=Category.choices)
    amount = models.DecimalField("发放金额（元）", **MONEY)
    holder_name = models.CharField("户名", max_length=50)
    account_kind = models.CharField("账户类型", max_length=20, choices=AccountKind.choices)
    account_number = EncryptedCharField("账号")
    account_masked = models.CharField("账号（脱敏）", max_length=40)
    bank_name = models.CharField("开户银行", max_length=100)

    objects = RosterLineQuerySet.as_manager()

    class Meta:
        verbose_name = "清册明细"
        verbose_name_plural = "清册明细"
        ordering = ["roster_id", "village_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["roster", "entitlement"], name="one_line_per_entitlement"
            )
        ]
        indexes = [models.Index(fields=["roster", "category"])]

    def __str__(self) -> str:
        return f"{self.holder_name} {self.amount}"

    def save(self, *args, **kwargs) -> None:
        if self.roster.is_frozen or self.roster._frozen_in_db():
            raise Immutable("已报送清册的明细不可修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.roster.is_frozen or self.roster._frozen_in_db():
            raise Immutable("已报送清册的明细不可删除。")
        return super().delete(*args, **kwargs)


class SignatureStep(models.TextChoices):
    PREPARE = "prepare", "经办人编制"
    DIRECT = "direct", "分管领导审核"
    FIRST = "first", "第一责任人审定"


class RosterSignature(SignedRecord):
    """A signature over a roster round: who, in what role and unit, when, over what content."""

    roster = models.ForeignKey(PaymentRoster, on_delete=models.PROTECT, related_name="signatures")
    round = models.PositiveIntegerField("编制轮次")
    step = models.CharField("签字环节", max_length=10, choices=SignatureStep.choices)
    signer_name = models.CharField("签字人", max_length=50)
    signed_at = models.DateTimeField("签字时间", default=timezone.now)
    content = models.JSONField("所签内容", default=dict)

    class Meta:
        verbose_name = "清册签字"
        verbose_name_plural = "清册签字"
        ordering = ["roster_id", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["roster", "round", "step"], name="one_signature_per_roster_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} · {self.signer_name}"


class RosterEvent(ImmutableModel):
    """One entry of a roster's timeline."""

    roster = models.ForeignKey(PaymentRoster, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField("时间", default=timezone.now)
    action = models.CharField("事项", max_length=40)
    label = models.CharField("说明", max_length=100)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField("备注", blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "清册事件"
        verbose_name_plural = "清册事件"
        ordering = ["roster_id", "at", "id"]


# --- County ------------------------------------------------------------------------------


class CountyFundRequest(ImmutableModel):
    """The county's request to the finance bureau (请款汇总) for a month, once all units are in."""

    month = models.DateField("发放月份")
    total_amount = models.DecimalField("金额合计（元）", **MONEY)
    line_count = models.PositiveIntegerField("人数合计")
    totals = models.JSONField(
        "分单位分类别合计", default=list, help_text="[{unit_id, unit, category, count, amount}]"
    )
    rosters = models.ManyToManyField(PaymentRoster, related_name="fund_requests", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    note = models.CharField("备注", max_length=300, blank=True)

    class Meta:
        verbose_name = "县级请款汇总"
        verbose_name_plural = "县级请款汇总"
        ordering = ["-month", "-id"]

    def __str__(self) -> str:
        return f"{self.month:%Y年%m月}请款汇总 {self.total_amount}元"


class FundRelease(ImmutableModel):
    """Funds the finance bureau released against a county fund request, for a unit and category.

    Written once, through `services.record_fund_release`: the released total of a request's
    unit and category never exceeds what was requested unless a county supervisor records why
    (`over_reason`). A voucher number (拨付凭证号) names one release. Releases recorded before
    these checks (`recorded_before_checks`) keep what they said, duplicates included; the
    migration attached them to their month's request where only one could be meant.
    """

    fund_request = models.ForeignKey(
        CountyFundRequest,
        verbose_name="请款汇总",
        on_delete=models.PROTECT,
        related_name="releases",
        null=True,
        blank=True,
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="fund_releases")
    category = models.CharField("类别", max_length=20, choices=Category.choices, blank=True)
    month = models.DateField("发放月份")
    amount = models.DecimalField("拨付金额（元）", **MONEY)
    released_on = models.DateField("拨付日期")
    reference = models.CharField("拨付凭证号", max_length=60, blank=True)
    over_reason = models.CharField("超出请款金额的原因", max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_before_checks = models.BooleanField("检查启用前登记", default=False)

    class Meta:
        verbose_name = "资金拨付记录"
        verbose_name_plural = "资金拨付记录"
        ordering = ["-month", "unit_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(recorded_before_checks=False),
                name="one_release_per_voucher",
                violation_error_message="该凭证号已登记过拨付。",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0) | Q(recorded_before_checks=True),
                name="release_amount_positive",
            ),
        ]


class FundDemandPlan(models.Model):
    """One line of the yearly fund demand plan (资金年度需求计划): a unit and category."""

    year = models.PositiveIntegerField("计划年度")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    category = models.CharField("类别", max_length=20, choices=Category.choices)
    current_count = models.PositiveIntegerField("现保障人数（户数）")
    current_monthly = models.DecimalField("现月发放额（元）", **MONEY)
    new_per_month = models.DecimalField("近12个月月均新增", max_digits=10, decimal_places=2)
    stopped_per_month = models.DecimalField("近12个月月均停发", max_digits=10, decimal_places=2)
    standard_factor = models.DecimalField("标准调整系数", max_digits=8, decimal_places=4, default=1)
    projected_amount = models.DecimalField("测算全年需求（元）", **MONEY)
    adjusted_amount = models.DecimalField("县局调整后（元）", null=True, blank=True, **MONEY)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adjustment_note = models.CharField("调整说明", max_length=300, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "资金年度需求计划"
        verbose_name_plural = "资金年度需求计划"
        ordering = ["year", "unit__code", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "unit", "category"], name="one_plan_line_per_unit_category"
            )
        ]

    @property
    def final_amount(self):
        return self.adjusted_amount if self.adjusted_amount is not None else self.projected_amount


class PlanStep(models.TextChoices):
    PREPARE = "prepare", "编制人（资金管理）"
    APPROVE = "approve", "审核人（县民政局）"


class FundDemandPlanSignature(SignedRecord):
    """A sign-off of the yearly plan over its lines as they stood; lapses if a line changes."""

    year = models.PositiveIntegerField("计划年度")
    step = models.CharField("签署环节", max_length=10, choices=PlanStep.choices)
    total = models.DecimalField("计划合计（元）", **MONEY)
    content = models.JSONField("所签内容", default=dict)

    class Meta:
        verbose_name = "资金需求计划签署"
        verbose_name_plural = "资金需求计划签署"
        ordering = ["year", "signed_at", "id"]


PLAN_RECIPIENT = "磴口县财政局、巴彦淖尔市民政局"


class FundDemandPlanSubmission(ImmutableModel):
    """The yearly plan as submitted (已报送): its lines frozen here, the plan no longer changes."""

    year = models.PositiveIntegerField("计划年度", unique=True)
    total = models.DecimalField("计划合计（元）", **MONEY)
    content = models.JSONField("报送内容", default=dict)
    recipient = models.CharField("报送单位", max_length=100, default=PLAN_RECIPIENT)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("报送时间", default=timezone.now)

    class Meta:
        verbose_name = "资金需求计划报送"
        verbose_name_plural = "资金需求计划报送"
        ordering = ["-year"]


class ExportJob(models.Model):
    """A background export with its progress, polled by the page until the file is ready."""

    class Kind(models.TextChoices):
        ROSTER_XLSX = "roster_xlsx", "清册Excel"
        ROSTER_PDF = "roster_pdf", "清册PDF"
        COUNTY_XLSX = "county_xlsx", "全县汇总Excel"
        COUNTY_PDF = "county_pdf", "全县汇总PDF"
        PLAN_XLSX = "plan_xlsx", "年度需求计划Excel"

    class State(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "生成中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    roster = models.ForeignKey(
        PaymentRoster, null=True, blank=True, on_delete=models.PROTECT, related_name="exports"
    )
    month = models.DateField(null=True, blank=True)
    year = models.PositiveIntegerField(null=True, blank=True)
    full_accounts = models.BooleanField("含完整账号", default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-id"]


# === Dynamic management: review schedules, reviews, change reports, comparison runs ========
# (disbursement/reviews/services.py, change_reports.py and comparison.py hold the services.)


class ReviewRule(models.TextChoices):
    STABLE = "stable", "收入稳定（按年复核）"
    VOLATILE = "volatile", "有劳动能力且收入不固定（按半年复核）"


class ReviewSchedule(models.Model):
    """When an entitlement's household is next due for its periodic review (定期复核)."""

    entitlement = models.OneToOneField(
        Entitlement, on_delete=models.PROTECT, related_name="review_schedule"
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField("复核规则", max_length=10, choices=ReviewRule.choices)
    last_review_on = models.DateField("上次复核（或认定）日期")
    next_review_on = models.DateField("下次复核日期")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "复核计划"
        verbose_name_plural = "复核计划"
        indexes = [models.Index(fields=["next_review_on"])]

    def __str__(self) -> str:
        return f"{self.household_id} 下次复核 {self.next_review_on}"


class ReviewState(models.TextChoices):
    OPEN = "open", "待复核"
    VERIFICATION_REQUESTED = "verification_requested", "已委托核对"
    VISITED = "visited", "已入户调查"
    ASSESSED = "assessed", "已重新核算"
    PROPOSED = "proposed", "经办人已提出意见"
    OPINION_SIGNED = "opinion_signed", "分管领导已签署意见"
    DECIDED = "decided", "已审核确认"
    CLOSED = "closed", "已关闭（待遇已终止）"


OPEN_REVIEW_STATES = (
    ReviewState.OPEN,
    ReviewState.VERIFICATION_REQUESTED,
    ReviewState.VISITED,
    ReviewState.ASSESSED,
    ReviewState.PROPOSED,
    ReviewState.OPINION_SIGNED,
)


class ReviewTrigger(models.TextChoices):
    SCHEDULE = "schedule", "定期复核"
    CHANGE_REPORT = "change_report", "家庭情况变化报告"
    COMPARISON = "comparison", "核查比对"
    MANUAL = "manual", "经办人发起"


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", "维持原待遇"
    INCREASE = "increase", "增发"
    DECREASE = "decrease", "减发"
    STOP = "stop", "停发"
    # 渐退: income rose above the standard; payment goes on for the county's phase-out
    # months (CountyRules.phase_out_months) and stops after them.
    PHASE_OUT = "phase_out", "渐退（渐退期满后停发）"


class Review(models.Model):
    """One review of a household in payment: visit, new income calculation, signed outcome."""

    # The monthly opening writes a million reviews at once, and each index and each foreign-key
    # check costs it seconds. The entitlement is the review's parent and keeps its constraint
    # (its index is left out: reviews are never looked up by entitlement, and entitlements are
    # never deleted). Case, household, unit and village are the entitlement's own, copied for
    # the lists and the one-open-review rule: no database constraint (Django's PROTECT still
    # refuses deletes); household keeps its index (the household's history), unit and village
    # lead the list indexes below, case has none.
    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, related_name="reviews", db_index=False
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="reviews",
        db_index=False,
        db_constraint=False,
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="reviews", db_constraint=False
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name="审核确认单位",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    village = models.ForeignKey(
        Village,
        verbose_name="嘎查村/社区",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    trigger = models.CharField("复核起因", max_length=20, choices=ReviewTrigger.choices)
    opened_on = models.DateField("启动日期")
    due_on = models.DateField("应复核日期")
    # No index of its own: nearly every row is open or decided; the partial unique index on
    # open reviews and the list indexes serve the queries by state.
    state = FSMField("状态", default=ReviewState.OPEN, choices=ReviewState.choices, protected=True)
    version = models.PositiveIntegerField(default=0)
    verification_required = models.BooleanField("须重新委托核对", default=False)

    visited_on = models.DateField("入户调查日期", null=True, blank=True)
    investigators = models.JSONField("调查人员", default=list, blank=True)
    visit_findings = models.TextField("调查情况", blank=True)

    assessed_amount = models.DecimalField("核算月救助金额", null=True, blank=True, **MONEY)
    assessed_eligible = models.BooleanField("核算结果符合条件", null=True, blank=True)
    working = models.JSONField("核算过程", default=dict, blank=True)

    outcome = models.CharField("复核结果", max_length=10, choices=ReviewOutcome.choices, blank=True)
    old_amount = models.DecimalField("原月救助金额", null=True, blank=True, **MONEY)
    new_amount = models.DecimalField("新月救助金额", null=True, blank=True, **MONEY)
    reason = models.TextField("理由", blank=True)
    income_above_standard = models.BooleanField("因收入超过标准停发", default=False)
    decided_on = models.DateField("审核确认日期", null=True, blank=True)
    effective_month = models.DateField("变更生效月份", null=True, blank=True)
    phase_out_until = models.DateField("渐退期至（最后发放月份）", null=True, blank=True)
    # Set on decided reviews only, never looked up from the other side: no index (each index
    # costs the monthly opening of a million reviews time).
    change = models.ForeignKey(
        EntitlementChange,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    notice = models.ForeignKey(
        "cases.Document",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    closed_reason = models.CharField("关闭原因", max_length=300, blank=True)
    # The review's request to the county centre for a new economic-status check; its report
    # (request.report) comes back to the review.
    verification_request = models.ForeignKey(
        "cases.VerificationRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "复核"
        verbose_name_plural = "复核"
        ordering = ["due_on", "id"]
        constraints = [
            # A household has at most one review under way.
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(state__in=OPEN_REVIEW_STATES),
                name="one_open_review_per_household",
            ),
            # The monthly task opens a scheduled review once per due date, however often it runs.
            models.UniqueConstraint(
                fields=["entitlement", "due_on"],
                condition=Q(trigger="schedule"),
                name="one_scheduled_review_per_due_date",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "state", "due_on"]),
            models.Index(fields=["village", "state"]),
            # The review list's default: reviews under way, soonest due first. Without it a
            # unit's first page sorted all its open reviews (0.9 s at 100,000).
            models.Index(
                fields=["due_on", "id"],
                condition=Q(state__in=OPEN_REVIEW_STATES),
                name="review_open_due",
            ),
        ]

    def __str__(self) -> str:
        return f"复核#{self.pk} {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REVIEW_STATES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.due_on < timezone.localdate()

    # Transition bodies set fields and nothing else; disbursement.reviews.services does the rest.

    @transition(field=state, source=ReviewState.OPEN, target=ReviewState.VERIFICATION_REQUESTED)
    def request_verification(self) -> None:
        pass

    @transition(
        field=state,
        source=(ReviewState.OPEN, ReviewState.VERIFICATION_REQUESTED),
        target=ReviewState.VISITED,
        conditions=[lambda r: r.state != ReviewState.OPEN or not r.verification_required],
    )
    def record_visit(self, *, on, investigators: list, findings: str) -> None:
        self.visited_on = on
        self.investigators = investigators
        self.visit_findings = findings

    @transition(
        field=state, source=(ReviewState.VISITED, ReviewState.ASSESSED), target=ReviewState.ASSESSED
    )
    def assess(self, *, amount, eligible: bool, working: dict) -> None:
        self.assessed_amount = amount
        self.assessed_eligible = eligible
        self.working = working

    @transition(field=state, source=ReviewState.ASSESSED, target=ReviewState.PROPOSED)
    def propose(
        self, *, outcome: str, old_amount, new_amount, reason: str, income_above: bool
    ) -> None:
        self.outcome = outcome
        self.old_amount = old_amount
        self.new_amount = new_amount
        self.reason = reason
        self.income_above_standard = income_above

    @transition(field=state, source=ReviewState.PROPOSED, target=ReviewState.OPINION_SIGNED)
    def sign_opinion(self) -> None:
        pass

    @transition(
        field=state,
        source=(ReviewState.PROPOSED, ReviewState.OPINION_SIGNED),
        target=ReviewState.ASSESSED,
    )
    def send_back(self) -> None:
        self.outcome = ""

    @transition(field=state, source=ReviewState.OPINION_SIGNED, target=ReviewState.DECIDED)
    def decide(self, *, on, effective_month, phase_out_until=None) -> None:
        self.decided_on = on
        self.effective_month = effective_month
        self.phase_out_until = phase_out_until

    @transition(field=state, source=OPEN_REVIEW_STATES, target=ReviewState.CLOSED)
    def close(self, *, reason: str) -> None:
        self.closed_reason = reason


class ReviewStep(models.TextChoices):
    PROPOSAL = "proposal", "经办人复核意见"
    OPINION = "opinion", "分管领导审核意见"
    DECISION = "decision", "第一责任人审核确认"


class ReviewSignature(SignedRecord):
    """A signature over a review: who, in what role and unit, when, with what opinion, over what."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="signatures")
    step = models.CharField("签署环节", max_length=10, choices=ReviewStep.choices)
    opinion = models.CharField("意见", max_length=10, blank=True)
    text = models.TextField("意见内容", blank=True)
    content = models.JSONField("所签内容", default=dict)

    class Meta:
        verbose_name = "复核签署"
        verbose_name_plural = "复核签署"
        ordering = ["review_id", "signed_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_step_display()} · {self.signer_name}"


# --- The facts a review's home visit found ---------------------------------------------------
# Written once, with the visit (disbursement.reviews.facts); the review's recalculation reads
# them and nothing else. They never change the case's own household records.


class ReviewMember(models.Model):
    """A household member as the review's home visit found them living in the household."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="fact_members")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    position = models.PositiveSmallIntegerField("序号")
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("与户主关系", max_length=20, choices=Relation.choices)
    work_ability = models.CharField("劳动能力", max_length=10, choices=WorkAbility.choices)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "复核核实的家庭成员"
        verbose_name_plural = "复核核实的家庭成员"
        ordering = ["review_id", "position"]

    def __str__(self) -> str:
        return self.name


class ReviewIncome(models.Model):
    """An income the review's home visit found; `months` (when given) are the months received
    within the assessment period, otherwise the months its dates cover."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="fact_incomes")
    member = models.ForeignKey(ReviewMember, on_delete=models.PROTECT, related_name="incomes")
    position = models.PositiveSmallIntegerField("序号")
    kind = models.CharField("收入类型", max_length=20, choices=IncomeKind.choices)
    source = models.CharField("收入来源", max_length=100)
    monthly_amount = models.DecimalField("月均金额（元）", **MONEY)
    months = models.PositiveSmallIntegerField("核算期内领取月数", null=True, blank=True)
    period_start = models.DateField("起始日期", null=True, blank=True)
    period_end = models.DateField("截止日期", null=True, blank=True)
    exempt = models.BooleanField("不计入家庭收入", default=False)
    exempt_reason = models.CharField("不计入理由", max_length=100, blank=True)

    class Meta:
        verbose_name = "复核核实的收入"
        verbose_name_plural = "复核核实的收入"
        ordering = ["review_id", "position"]


class ReviewAsset(models.Model):
    """Household property the review's home visit found."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="fact_assets")
    position = models.PositiveSmallIntegerField("序号")
    kind = models.CharField("财产类型", max_length=20, choices=AssetKind.choices)
    description = models.CharField("说明", max_length=200, blank=True)
    value = models.DecimalField("估值（元）", **MONEY)

    class Meta:
        verbose_name = "复核核实的家庭财产"
        verbose_name_plural = "复核核实的家庭财产"
        ordering = ["review_id", "position"]


class ChangeReportKind(models.TextChoices):
    BIRTH = "birth", "新生儿"
    DEATH = "death", "成员死亡"
    MOVED_OUT = "moved_out", "成员迁出"
    MARRIED = "married", "结婚"
    NEW_JOB = "new_job", "新就业"
    NEW_INCOME = "new_income", "新增收入"
    NEW_VEHICLE = "new_vehicle", "新购车辆"
    NEW_HOUSE = "new_house", "新购房产"
    NEW_BUSINESS = "new_business", "新办经营实体"
    OTHER = "other", "其他变化"


class ChangeReportState(models.TextChoices):
    NEW = "new", "待处理"
    REVIEWED = "reviewed", "已启动复核"
    DISMISSED = "dismissed", "无需复核"
    CONFIRMED = "confirmed", "已核实并调整"


class ChangeReport(models.Model):
    """A change in a paid household reported by the village; the unit's handler decides on it."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="change_reports"
    )
    member = models.ForeignKey(
        "cases.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_reports",
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("变化类型", max_length=20, choices=ChangeReportKind.choices)
    details = models.TextField("具体情况")
    occurred_on = models.DateField("发生日期", null=True, blank=True)
    reported_on = models.DateField("报告日期", default=timezone.localdate)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="报告人", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        "状态", max_length=10, choices=ChangeReportState.choices, default=ChangeReportState.NEW
    )
    decision = models.TextField("经办人处理意见", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    review = models.ForeignKey(
        Review, null=True, blank=True, on_delete=models.PROTECT, related_name="change_reports"
    )
    change = models.ForeignKey(
        EntitlementChange, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "家庭情况变化报告"
        verbose_name_plural = "家庭情况变化报告"
        ordering = ["-reported_on", "-id"]
        indexes = [
            models.Index(fields=["unit", "state"]),
            models.Index(fields=["village", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reported_on}"


class ComparisonRun(models.Model):
    """One imported file of other agencies' data (核查比对); the same file imports once."""

    file_name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("文件摘要", max_length=64, unique=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", default=timezone.now)
    row_count = models.PositiveIntegerField("数据行数", default=0)
    matched_count = models.PositiveIntegerField("匹配在保对象行数", default=0)
    unmatched_count = models.PositiveIntegerField("未匹配行数", default=0)
    malformed_count = models.PositiveIntegerField("有误行数", default=0)
    review_count = models.PositiveIntegerField("启动复核户数", default=0)

    class Meta:
        verbose_name = "核查比对批次"
        verbose_name_plural = "核查比对批次"
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.imported_at:%Y-%m-%d}）"


class FindingKind(models.TextChoices):
    DEATH = "death", "死亡"
    VEHICLE = "vehicle", "车辆"
    REAL_ESTATE = "real_estate", "不动产"
    BUSINESS = "business", "工商登记"
    SALARY = "salary", "工资/社保缴费"
    OTHER = "other", "其他"


class ComparisonFinding(models.Model):
    """A row of a comparison file that matched a member of a household in payment."""

    run = models.ForeignKey(ComparisonRun, on_delete=models.PROTECT, related_name="findings")
    line = models.PositiveIntegerField("行号")
    row_key = models.CharField(max_length=40)
    person = models.ForeignKey(
        "cases.Person", on_delete=models.PROTECT, related_name="comparison_findings"
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    source_agency = models.CharField("数据来源部门", max_length=100)
    kind = models.CharField("比对发现", max_length=20, choices=FindingKind.choices)
    value = models.CharField("内容/金额", max_length=200, blank=True)
    found_on = models.DateField("日期", null=True, blank=True)
    review = models.ForeignKey(
        Review, null=True, blank=True, on_delete=models.PROTECT, related_name="findings"
    )
    change_report = models.ForeignKey(
        ChangeReport, null=True, blank=True, on_delete=models.PROTECT, related_name="findings"
    )

    class Meta:
        verbose_name = "核查比对发现"
        verbose_name_plural = "核查比对发现"
        ordering = ["run_id", "line"]
        constraints = [
            models.UniqueConstraint(fields=["run", "row_key"], name="one_finding_per_row_key")
        ]
        indexes = [models.Index(fields=["household"]), models.Index(fields=["unit", "run"])]


class ComparisonIssue(models.Model):
    """A row of a comparison file that matched nobody in payment, or could not be read."""

    class Kind(models.TextChoices):
        UNMATCHED = "unmatched", "未匹配在保对象"
        MALFORMED = "malformed", "数据有误"

    run = models.ForeignKey(ComparisonRun, on_delete=models.PROTECT, related_name="issues")
    line = models.PositiveIntegerField("行号")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    row_key = models.CharField(max_length=40, blank=True)
    reason = models.CharField("原因", max_length=200)
    id_masked = models.CharField("身份证号（脱敏）", max_length=30, blank=True)
    source_agency = models.CharField("数据来源部门", max_length=100, blank=True)
    finding_kind = models.CharField("比对发现", max_length=40, blank=True)

    class Meta:
        verbose_name = "核查比对未匹配/有误行"
        verbose_name_plural = "核查比对未匹配/有误行"
        ordering = ["run_id", "line"]
        indexes = [
            models.Index(fields=["run", "row_key"]),
            models.Index(fields=["run", "kind", "line"]),
        ]


# --- Caseload and staff imports (disbursement/imports/) -------


class ImportBatch(models.Model):
    """One uploaded spreadsheet: checked (preview) first, imported on the clerk's confirmation."""

    class Kind(models.TextChoices):
        CASELOAD = "caseload", "在保家庭导入"
        STAFF = "staff", "工作人员导入"

    class State(models.TextChoices):
        CHECKING = "checking", "检查中"
        PREVIEWED = "previewed", "已预览，待确认导入"
        IMPORTING = "importing", "导入中"
        IMPORTED = "imported", "已导入"
        FAILED = "failed", "失败"

    kind = models.CharField("导入类型", max_length=20, choices=Kind.choices)
    file = models.FileField("文件", upload_to="imports/%Y/%m/")
    file_name = models.CharField("原文件名", max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField("文件大小（字节）")
    unit = models.ForeignKey(
        Unit,
        verbose_name="导入范围（空为全县）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)
    state = models.CharField(max_length=20, choices=State.choices, default=State.CHECKING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    preview = models.JSONField("预览统计", default=dict, blank=True)
    counts = models.JSONField("导入结果统计", default=dict, blank=True)
    errors = models.JSONField("错误行（行号与原因）", default=list, blank=True)
    error_total = models.PositiveIntegerField("错误行数", default=0)
    message = models.CharField("失败原因", max_length=500, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", null=True, blank=True)
    # Initial passwords of imported staff, shown once and then cleared.
    secrets = EncryptedCharField("初始密码（显示一次后清除）", blank=True, default="")

    class Meta:
        verbose_name = "数据导入批次"
        verbose_name_plural = "数据导入批次"
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"
