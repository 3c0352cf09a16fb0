"""The county's supervision records: findings of the system checks and spot checks, the spot-check
draw, bulletins, rectifications, revocations, complaints and the weights of the yearly assessment.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Unit
from cases.models import Case, ImmutableModel, Kind, Signature, SignedRecord
from dengkou_aid.lib.crypto import EncryptedCharField


class Rule(models.TextChoices):
    """What a finding is about: one rule of the system checks, or a field spot check."""

    SIGNATURE_ORDER = "signature_order", "签署环节缺失或顺序错误"
    STAGE_MISSING = "stage_missing", "办理环节缺失"
    MATERIAL_MISSING = "material_missing", "必需申报材料缺失"
    DECIDED_LATE = "decided_late", "超期办结且无经批准的延期"
    AMOUNT_MISMATCH = "amount_mismatch", "救助金额与核算结果不符"
    DUPLICATE_PERSON = "duplicate_person", "同一身份证号重复享受"
    AGE_RULE = "age_rule", "救助对象年龄不符合类别条件"
    PUBLICITY_SHORT = "publicity_short", "公示期不足"
    SPOT_CHECK = "spot_check", "实地监督核查发现问题"
    COMPLAINT = "complaint", "信访举报查实问题"


class Source(models.TextChoices):
    """Where a finding came from, as a bulletin groups them (六)."""

    SYSTEM = "system", "系统监督核查发现的问题"
    FIELD = "field", "实地监督核查发现的问题"
    COMPLAINT = "complaint", "信访举报查实的问题"


SYSTEM_RULES = (
    Rule.SIGNATURE_ORDER,
    Rule.STAGE_MISSING,
    Rule.MATERIAL_MISSING,
    Rule.DECIDED_LATE,
    Rule.AMOUNT_MISMATCH,
    Rule.DUPLICATE_PERSON,
    Rule.AGE_RULE,
    Rule.PUBLICITY_SHORT,
)


class Finding(models.Model):
    """One problem with one case, raised once per (rule, case) while open, closed when fixed."""

    class State(models.TextChoices):
        OPEN = "open", "未关闭"
        CLOSED = "closed", "已关闭"

    rule = models.CharField("问题类型", max_length=30, choices=Rule.choices)
    case = models.ForeignKey(
        Case,
        verbose_name="案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    unit = models.ForeignKey(
        Unit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="findings"
    )
    evidence = models.JSONField("依据", default=dict)
    state = models.CharField(
        "状态", max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    first_seen = models.DateTimeField("首次发现", default=timezone.now)
    last_seen = models.DateTimeField("最近发现", default=timezone.now)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    close_note = models.CharField("关闭说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "监督发现问题"
        verbose_name_plural = "监督发现问题"
        ordering = ["-first_seen", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "case"],
                condition=Q(state="open"),
                name="one_open_finding_per_rule_case",
            )
        ]
        indexes = [
            models.Index(fields=["unit", "state"]),
            models.Index(fields=["rule", "state"]),
            # The dashboard's open findings per unit and rule, read from the index alone.
            models.Index(
                fields=["unit", "rule"], condition=Q(state="open"), name="finding_open_unit_rule"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} #{self.pk}"

    @property
    def source(self) -> str:
        return source_of(self.rule)

    @property
    def source_label(self) -> str:
        return Source(self.source).label


def rules_of(source: str) -> list[str]:
    """The rules whose findings a bulletin groups under the source."""
    return [rule for rule in Rule.values if source_of(rule) == source]


def source_of(rule: str) -> str:
    """The bulletin's group of a rule: a field spot check, a complaint, or a system check."""
    if rule == Rule.SPOT_CHECK:
        return Source.FIELD
    if rule == Rule.COMPLAINT:
        return Source.COMPLAINT
    return Source.SYSTEM


class SpotCheckDraw(models.Model):
    """The recorded draw of a period's field spot-check sample; its seed reproduces it."""

    period_start = models.DateField("抽查期间起")
    period_end = models.DateField("抽查期间止")
    seed = models.BigIntegerField("随机种子")
    drawn_at = models.DateTimeField("抽取时间", default=timezone.now)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="抽取人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    method = models.TextField("抽取方法")
    parameters = models.JSONField("参数", default=dict)
    redraw_of = models.ForeignKey(
        "self",
        verbose_name="重抽所替代的抽取",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redraws",
    )
    redraw_reason = models.CharField("重抽理由", max_length=300, blank=True)

    class Meta:
        verbose_name = "实地抽查抽样"
        verbose_name_plural = "实地抽查抽样"
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period_start", "period_end"],
                condition=Q(redraw_of__isnull=True),
                name="one_first_draw_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.period_start}至{self.period_end}抽样"


class CheckItem(models.TextChoices):
    HOME_VISIT = "home_visit", "入户调查"
    ARCHIVE = "archive", "档案资料"
    INCOME = "income", "收入核算"
    PUBLICITY = "publicity", "审核确认公示"


class SpotCheckSample(models.Model):
    """One drawn case and, once visited, the checker's checklist."""

    draw = models.ForeignKey(SpotCheckDraw, on_delete=models.PROTECT, related_name="samples")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="spot_checks")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("救助类别", max_length=20, choices=Kind.choices)
    stratum_size = models.PositiveIntegerField("层内案件数")
    results = models.JSONField("核查结果", default=dict, help_text="{item: {ok, note}}")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField("核查时间", null=True, blank=True)

    class Meta:
        verbose_name = "抽查案件"
        verbose_name_plural = "抽查案件"
        ordering = ["draw_id", "unit_id", "kind", "case_id"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "case"], name="unique_sample_case_per_draw")
        ]

    @property
    def problems(self) -> list[str]:
        return [item for item, result in self.results.items() if not result.get("ok")]


class SpotCheckPhoto(ImmutableModel):
    sample = models.ForeignKey(SpotCheckSample, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField("照片", upload_to="spot_checks/%Y/%m/")
    mime = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "抽查照片"
        verbose_name_plural = "抽查照片"


class Bulletin(ImmutableModel):
    """A bulletin (工作通报) of one period for one unit, or the county summary (no unit)."""

    period_start = models.DateField("通报期间起")
    period_end = models.DateField("通报期间止")
    unit = models.ForeignKey(
        Unit,
        verbose_name="被通报单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bulletins",
    )
    title = models.CharField("标题", max_length=200)
    number = models.CharField("文号", max_length=40, blank=True, db_default="")
    issued_on = models.DateField("印发日期", null=True, blank=True)
    signature = models.OneToOneField(
        "CountySignature",
        verbose_name="签发",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bulletin",
    )
    figures = models.JSONField("通报数据", default=dict)
    file = models.FileField("PDF", upload_to="bulletins/%Y/")
    sha256 = models.CharField(max_length=64)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("印发时间", default=timezone.now)

    class Meta:
        verbose_name = "工作通报"
        verbose_name_plural = "工作通报"
        ordering = ["-period_start", "unit_id", "id"]

    def __str__(self) -> str:
        return self.title


class Rectification(models.Model):
    """An order to a unit to rectify a finding by a date (限期整改), its answer and the verdict."""

    class State(models.TextChoices):
        ORDERED = "ordered", "待整改"
        ANSWERED = "answered", "已反馈"
        ACCEPTED = "accepted", "已验收"

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="rectifications")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="rectifications")
    instruction = models.TextField("整改要求")
    due_on = models.DateField("整改期限")
    state = models.CharField(
        "状态", max_length=10, choices=State.choices, default=State.ORDERED, db_index=True
    )
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField("整改情况", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    verdict_note = models.TextField("验收意见", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    history = models.JSONField("往来记录", default=list)

    class Meta:
        verbose_name = "限期整改"
        verbose_name_plural = "限期整改"
        ordering = ["due_on", "id"]

    @property
    def answered_on_time(self) -> bool | None:
        if self.answered_at is None:
            return None
        return timezone.localdate(self.answered_at) <= self.due_on

    @property
    def overdue(self) -> bool:
        """Still waiting for the unit's answer after its due date."""
        return self.state == self.State.ORDERED and self.due_on < timezone.localdate()


class RectificationAttachment(ImmutableModel):
    """A file the unit sends with its answer to a rectification order (a scan, a photo)."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.PROTECT, related_name="attachments"
    )
    round = models.PositiveSmallIntegerField("第几次反馈", default=1)
    file = models.FileField("附件", upload_to="rectifications/%Y/%m/")
    original_name = models.CharField("文件名", max_length=200)
    mime = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "整改反馈附件"
        verbose_name_plural = "整改反馈附件"
        ordering = ["uploaded_at", "id"]


class CountySignature(SignedRecord):
    """The county supervisor's signature on a county act: a bulletin, a reply letter, an
    acceptance sheet, a revocation decision."""

    class Act(models.TextChoices):
        BULLETIN = "bulletin", "签发工作通报"
        COMPLAINT_REPLY = "complaint_reply", "签发信访答复意见书"
        ACCEPTANCE = "acceptance", "签署第三方机构考核验收"
        REVOCATION_DECISION = "revocation_decision", "签发撤销决定书"

    act = models.CharField("签署事项", max_length=30, choices=Act.choices)
    text = models.TextField("签署意见", blank=True)

    class Meta:
        verbose_name = "县民政局签署"
        verbose_name_plural = "县民政局签署"


class CountyNumber(models.Model):
    """The last number of a county document series in a year (磴民政通〔2026〕N号);
    locked while a number is taken."""

    series = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "县民政局文号序列"
        verbose_name_plural = "县民政局文号序列"
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="unique_county_number")
        ]


class Revocation(ImmutableModel):
    """The county's revocation of a unit's decision (撤销审核确认决定), signed."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="revocations")
    reason = models.TextField("撤销理由")
    stop_from = models.DateField("停发月份")
    signature = models.OneToOneField(Signature, on_delete=models.PROTECT, related_name="+")
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "撤销审核确认决定"
        verbose_name_plural = "撤销审核确认决定"


class RevocationDecision(ImmutableModel):
    """The numbered revocation decision (撤销决定书) the county issues for a revocation."""

    revocation = models.OneToOneField(Revocation, on_delete=models.PROTECT, related_name="decision")
    number = models.CharField("文号", max_length=40, unique=True)
    issued_on = models.DateField("印发日期")
    signature = models.OneToOneField(CountySignature, on_delete=models.PROTECT, related_name="+")
    file = models.FileField("PDF", upload_to="revocations/%Y/")
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = "撤销决定书"
        verbose_name_plural = "撤销决定书"


class Complaint(models.Model):
    """A petition or report (信访、举报): registered, assigned, investigated, answered, closed."""

    class Channel(models.TextChoices):
        VISIT = "visit", "来访"
        LETTER = "letter", "来信"
        PHONE = "phone", "来电"
        HOTLINE = "hotline", "12345热线转办"
        ONLINE = "online", "网上信访"
        SUPERIOR = "superior", "上级转交"

    class State(models.TextChoices):
        REGISTERED = "registered", "已登记"
        ASSIGNED = "assigned", "已交办"
        HANDED_OFF = "handed_off", "已转乡镇办理"
        TOWNSHIP_ANSWERED = "township_answered", "乡镇已反馈"
        INVESTIGATED = "investigated", "已调查"
        ANSWERED = "answered", "已答复"
        CLOSED = "closed", "已办结"

    received_on = models.DateField("收到日期")
    channel = models.CharField("来源方式", max_length=20, choices=Channel.choices)
    anonymous = models.BooleanField("匿名", default=False)
    complainant_name = EncryptedCharField("信访人姓名", blank=True, default="")
    complainant_contact = EncryptedCharField("联系方式", blank=True, default="")
    subject = models.CharField("事由", max_length=200)
    content = models.TextField("内容", blank=True)
    case = models.ForeignKey(
        Case,
        verbose_name="涉及案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name="涉及单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    state = models.CharField(
        "状态", max_length=20, choices=State.choices, default=State.REGISTERED, db_index=True
    )
    due_on = models.DateField("答复期限")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_complaints",
    )
    handed_to = models.ForeignKey(
        Unit,
        verbose_name="转办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handed_complaints",
    )
    handoff_note = models.TextField("转办要求", blank=True)
    handed_at = models.DateTimeField("转办时间", null=True, blank=True)
    township_due_on = models.DateField("乡镇反馈期限", null=True, blank=True)
    township_answer = models.TextField("乡镇调查处理情况", blank=True)
    township_substantiated = models.BooleanField("乡镇认定属实", null=True, blank=True)
    township_answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    township_answered_at = models.DateTimeField("乡镇反馈时间", null=True, blank=True)
    investigation = models.TextField("调查情况", blank=True)
    substantiated = models.BooleanField("反映问题属实", null=True, blank=True)
    answer = models.TextField("答复意见", blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    findings = models.ManyToManyField(Finding, blank=True, related_name="complaints")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "信访举报"
        verbose_name_plural = "信访举报"
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return self.subject


class ComplaintReply(ImmutableModel):
    """The reply letter (信访事项答复意见书) to the complainant: numbered, signed, a PDF."""

    complaint = models.OneToOneField(Complaint, on_delete=models.PROTECT, related_name="reply")
    number = models.CharField("文号", max_length=40, unique=True)
    issued_on = models.DateField("印发日期")
    signature = models.OneToOneField(CountySignature, on_delete=models.PROTECT, related_name="+")
    file = models.FileField("PDF", upload_to="complaints/%Y/")
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = "信访答复意见书"
        verbose_name_plural = "信访答复意见书"


class AgencyAcceptance(ImmutableModel):
    """The county's yearly acceptance (考核验收) of a third-party agency: a verdict per item,
    the supervisor's signature and the PDF."""

    agency = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="acceptances")
    year = models.PositiveSmallIntegerField("年度")
    number = models.CharField("文号", max_length=40, unique=True)
    items = models.JSONField("验收项目", default=list)
    passed = models.BooleanField("验收结论：合格")
    conclusion = models.TextField("验收意见", blank=True)
    signature = models.OneToOneField(CountySignature, on_delete=models.PROTECT, related_name="+")
    file = models.FileField("PDF", upload_to="acceptances/%Y/")
    sha256 = models.CharField(max_length=64)
    issued_on = models.DateField("验收日期")

    class Meta:
        verbose_name = "第三方机构考核验收"
        verbose_name_plural = "第三方机构考核验收"
        ordering = ["-year", "agency_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year"], name="one_acceptance_per_agency_year"
            )
        ]


class AssessmentWeights(models.Model):
    """The county's weights for the yearly assessment of units; a change is a new row."""

    on_time = models.DecimalField("按期办结率", max_digits=5, decimal_places=2, default=Decimal(40))
    findings = models.DecimalField(
        "每案问题数（越少越好）", max_digits=5, decimal_places=2, default=Decimal(20)
    )
    rectification = models.DecimalField(
        "按期整改率", max_digits=5, decimal_places=2, default=Decimal(20)
    )
    spot_check = models.DecimalField(
        "实地抽查合格率", max_digits=5, decimal_places=2, default=Decimal(20)
    )
    complaints = models.DecimalField(
        "信访举报不属实率", max_digits=5, decimal_places=2, default=Decimal(10)
    )
    training = models.DecimalField(
        "培训覆盖率", max_digits=5, decimal_places=2, default=Decimal(10)
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "年度考核权重"
        verbose_name_plural = "年度考核权重"
        ordering = ["-set_at", "-id"]

    @classmethod
    def current(cls) -> AssessmentWeights:
        return cls.objects.first() or cls()

    @property
    def total(self) -> Decimal:
        return sum((getattr(self, key) for key in self.PARTS), Decimal(0))

    PARTS = ("on_time", "findings", "rectification", "spot_check", "complaints", "training")


class DashboardSnapshot(models.Model):
    """When the dashboard's summary figures were counted, and the month their payments are for.

    The figures over every case (caseload, decisions, applications, stops) and the month's
    payments are counted in one transaction into `DashboardTally` rows, nightly and on demand;
    the dashboard sums those few rows and says when they were counted.
    """

    computed_at = models.DateTimeField("统计时点", default=timezone.now)
    month = models.DateField("在发待遇月份")
    seconds = models.DecimalField("用时(秒)", max_digits=8, decimal_places=2, default=Decimal(0))

    class Meta:
        verbose_name = "看板统计快照"
        verbose_name_plural = "看板统计快照"


class DashboardTally(models.Model):
    """One group's count (and money) in a snapshot of the dashboard's figures."""

    class Figure(models.TextChoices):
        CASELOAD = "caseload", "案件（单位×类别×状态）"
        DECIDED = "decided", "审核确认（按日）"
        APPLIED = "applied", "申请（按月）"
        STOPPED = "stopped", "停发（按月）"
        PAID = "paid", "在发待遇"

    snapshot = models.ForeignKey(DashboardSnapshot, on_delete=models.CASCADE, related_name="+")
    figure = models.CharField(max_length=10, choices=Figure.choices)
    unit = models.ForeignKey(
        Unit, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=20)
    state = models.CharField(max_length=30, blank=True, db_default="")
    outcome = models.CharField(max_length=10, blank=True, db_default="")
    on_time = models.BooleanField(null=True)
    day = models.DateField(null=True)
    n = models.PositiveIntegerField()
    money = models.DecimalField(max_digits=16, decimal_places=2, null=True)

    class Meta:
        verbose_name = "看板统计数"
        verbose_name_plural = "看板统计数"
        indexes = [
            models.Index(fields=["snapshot", "figure", "day"], name="tally_snapshot_figure_day")
        ]


# --- Training (五(二)1(5), 七(四)) ---------------------------------------------------------


class Audience(models.TextChoices):
    STAFF = "staff", "苏木镇（农场）工作人员"
    ASSISTANTS = "assistants", "嘎查村（社区）协理员"


class TrainingMaterial(models.Model):
    """A policy or material in the county's library; its file changes only by a new version."""

    class Category(models.TextChoices):
        POLICY = "policy", "政策文件"
        MATERIAL = "material", "培训资料"

    title = models.CharField("标题", max_length=200)
    category = models.CharField("类别", max_length=20, choices=Category.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "政策及培训资料"
        verbose_name_plural = "政策及培训资料"
        ordering = ["category", "title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def current(self) -> TrainingMaterialVersion | None:
        return self.versions.order_by("-number").first()


class TrainingMaterialVersion(ImmutableModel):
    """One uploaded version of a library document, kept for good."""

    material = models.ForeignKey(
        TrainingMaterial, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveSmallIntegerField("版本")
    note = models.CharField("修订说明", max_length=200, blank=True)
    file = models.FileField("文件", upload_to="training/%Y/")
    original_name = models.CharField("文件名", max_length=200)
    mime = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "资料版本"
        verbose_name_plural = "资料版本"
        ordering = ["material_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["material", "number"], name="unique_material_version")
        ]


class TrainingSession(models.Model):
    """A training session the county plans: topic, date, place, trainer and audience."""

    topic = models.CharField("培训主题", max_length=200)
    held_on = models.DateField("培训日期")
    place = models.CharField("培训地点", max_length=200)
    trainer = models.CharField("授课人", max_length=100)
    audiences = models.JSONField("培训对象", default=list)
    units = models.ManyToManyField(Unit, verbose_name="参训单位", related_name="trainings")
    materials = models.ManyToManyField(
        TrainingMaterial, verbose_name="培训资料", blank=True, related_name="sessions"
    )
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    planned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "培训"
        verbose_name_plural = "培训"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.topic

    @property
    def audience_labels(self) -> str:
        return "、".join(Audience(a).label for a in self.audiences if a in Audience.values)


class Attendance(SignedRecord):
    """A trainee's signed attendance at a session: by the trainee or by the organiser."""

    class Method(models.TextChoices):
        SELF = "self", "本人签到"
        ORGANISER = "organiser", "组织人员代签"

    session = models.ForeignKey(
        TrainingSession, on_delete=models.PROTECT, related_name="attendances"
    )
    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainings_attended"
    )
    trainee_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    method = models.CharField("签到方式", max_length=10, choices=Method.choices)

    class Meta:
        verbose_name = "培训签到"
        verbose_name_plural = "培训签到"
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "trainee"], name="one_attendance_per_trainee"
            )
        ]
