"""Admin for signed and archived records: read-only. A change or delete attempt is refused
and logged (PROTECTED_WRITE); the county's retention rules and the units' guides stay editable.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from accounts.audit import record
from accounts.models import AuditLog
from cases.models import (
    ApplicantConsent,
    ArchiveDestruction,
    CaseEvent,
    CaseFile,
    DemocraticAppraisal,
    Document,
    Handover,
    HandoverSignature,
    HomeVisit,
    IncomeAssessment,
    Publicity,
    RetentionRule,
    ServiceGuide,
    Signature,
    SignatureVoid,
    VerificationReport,
    VerificationRequest,
)

READ_ONLY_MODELS = (
    CaseEvent,
    Signature,
    SignatureVoid,
    ApplicantConsent,
    VerificationRequest,
    VerificationReport,
    HomeVisit,
    DemocraticAppraisal,
    IncomeAssessment,
    Publicity,
    CaseFile,
    Document,
    Handover,
    HandoverSignature,
    ArchiveDestruction,
)


CODE = re.compile(r"[a-z][a-z_]*")
CODE_FIELDS = {
    "role": "role_words",
    "actor_role": "actor_role_words",
    "from_state": "from_state_words",
    "to_state": "to_state_words",
}


@functools.cache
def _choice_labels() -> dict[str, str]:
    """Every stored code of every choice, with its Chinese label."""
    labels: dict[str, str] = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            for value, label in getattr(field, "choices", None) or []:
                if isinstance(value, str):
                    labels.setdefault(value, str(label))
    return labels


def readable(value: Any) -> str:
    """A stored JSON value as words: codes as their labels, keys and unknown codes left out."""
    if isinstance(value, dict):
        return "，".join(part for part in map(readable, value.values()) if part)
    if isinstance(value, list):
        return "；".join(part for part in map(readable, value) if part)
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    text = str(value)
    if CODE.fullmatch(text):
        return _choice_labels().get(text, "")
    return text


def _label(field) -> str:
    label = str(field.verbose_name)
    return "附加数据" if label.isascii() else label


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows a signed record; never adds, changes or deletes one. Its JSON fields are shown
    in words (never a Python dict or the codes inside it)."""

    def get_fields(self, request: HttpRequest, obj=None):
        json_names = set(self._json_fields())
        fields = [
            CODE_FIELDS.get(f, f) for f in super().get_fields(request, obj) if f not in json_names
        ]
        return [*fields, "json_content"] if json_names else fields

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [*super().get_readonly_fields(request, obj), "json_content", *CODE_FIELDS.values()]

    # Plain text columns that hold a code (a role, a state): shown as its label.
    @admin.display(description="岗位")
    def role_words(self, obj) -> str:
        return readable(obj.role)

    @admin.display(description="岗位")
    def actor_role_words(self, obj) -> str:
        return readable(obj.actor_role)

    @admin.display(description="原状态")
    def from_state_words(self, obj) -> str:
        return readable(obj.from_state)

    @admin.display(description="新状态")
    def to_state_words(self, obj) -> str:
        return readable(obj.to_state)

    @admin.display(description="记录内容")
    def json_content(self, obj) -> str:
        return format_html_join(
            mark_safe("<br>"),
            "{}：{}",
            (
                (_label(self.model._meta.get_field(name)), readable(getattr(obj, name)))
                for name in self._json_fields()
            ),
        )

    def _json_fields(self) -> list[str]:
        return [f.name for f in self.model._meta.fields if isinstance(f, models.JSONField)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            self._log_refusal(request, object_id, "修改")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._log_refusal(request, object_id, "删除")
        return super().delete_view(request, object_id, extra_context)

    def _log_refusal(self, request: HttpRequest, object_id, verb: str) -> None:
        record(
            AuditLog.Action.PROTECTED_WRITE,
            request=request,
            detail=f"管理后台试图{verb}{self.model._meta.label}#{object_id}：已签署或归档，拒绝",
        )


for model in READ_ONLY_MODELS:
    if not admin.site.is_registered(model):
        admin.site.register(model, ReadOnlyAdmin)


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "years", "updated_by", "updated_at")
    readonly_fields = ("updated_by", "updated_at")

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ServiceGuide)
class ServiceGuideAdmin(admin.ModelAdmin):
    list_display = ("unit", "kind", "updated_by", "updated_at")
    list_filter = ("kind",)
    readonly_fields = ("updated_by", "updated_at")
