"""What the tablet sends: one receipt per draft key, and the signatures drawn on the glass."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..models import Case, Person, SignedRecord


class DraftKind(models.TextChoices):
    APPLICATION = "application", "委托申请"
    CHANGE_REPORT = "change_report", "家庭情况变化报告"
    SPOT_CHECK = "spot_check", "实地抽查核查表"


class SyncState(models.TextChoices):
    ACCEPTED = "accepted", "已接收"
    REFUSED = "refused", "未通过校验"
    CONFLICT = "conflict", "与服务器数据冲突"


class TabletSync(models.Model):
    """The server's receipt for one draft key: the first arrival, the attempts, the outcome.

    The key is unique: a retry after a lost answer finds the accepted receipt and gets the
    same answer back. A refused or conflicting draft stays on the device and may come again
    under the same key once fixed; only an accepted one is final.
    """

    key = models.UUIDField("草稿编号", unique=True)
    kind = models.CharField("草稿类型", max_length=20, choices=DraftKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", on_delete=models.PROTECT, related_name="+"
    )
    device = models.CharField("设备", max_length=200, blank=True)
    device_made_at = models.CharField(
        "设备所记制作时间（仅作备注，不作计时依据）", max_length=40, blank=True
    )
    received_at = models.DateTimeField("服务器首次收到时间", default=timezone.now)
    last_attempt_at = models.DateTimeField("最近一次提交时间", default=timezone.now)
    accepted_at = models.DateTimeField("服务器接收时间", null=True, blank=True)
    attempts = models.PositiveIntegerField("提交次数", default=0)
    payload_hash = models.CharField("草稿内容摘要(SHA-256)", max_length=64)
    state = models.CharField("结果", max_length=10, choices=SyncState.choices)
    message = models.CharField("说明", max_length=500, blank=True)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="tablet_syncs"
    )
    object_id = models.PositiveIntegerField("所建记录", null=True, blank=True)
    result = models.JSONField("回复", default=dict, blank=True)

    class Meta:
        verbose_name = "平板草稿同步记录"
        verbose_name_plural = "平板草稿同步记录"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"


class SignedDocument(models.TextChoices):
    CONSENT = "consent", "社会救助诚信声明及家庭经济状况核对授权书"


class GlassSignature(SignedRecord):
    """A signature an applicant or adult member drew on the tablet, witnessed by the assistant.

    The signer (a user) is the village assistant who held the tablet; the person who signed is
    named beside it. Stored: the image, the exact text shown, its hash, the device and the
    device's own clock (a note); `signed_at` is the server's time of acceptance.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="glass_signatures")
    document = models.CharField("所签文书", max_length=20, choices=SignedDocument.choices)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person_name = models.CharField("签字人", max_length=50)
    document_text = models.TextField("签署时显示的文书内容")
    text_hash = models.CharField("文书内容摘要(SHA-256)", max_length=64)
    image = models.BinaryField("签字图像(PNG)")
    image_hash = models.CharField("签字图像摘要(SHA-256)", max_length=64)
    device = models.CharField("设备", max_length=200, blank=True)
    device_signed_at = models.CharField("设备所记签字时间（仅作备注）", max_length=40, blank=True)
    sync = models.ForeignKey(
        TabletSync, null=True, blank=True, on_delete=models.PROTECT, related_name="signatures"
    )

    class Meta:
        verbose_name = "平板签字"
        verbose_name_plural = "平板签字"

    def __str__(self) -> str:
        return f"{self.person_name}：{self.get_document_display()}"

    @staticmethod
    def sha256(data: bytes | str) -> str:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        return hashlib.sha256(raw).hexdigest()
