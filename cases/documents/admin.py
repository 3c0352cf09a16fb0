"""Admin for signed and archived records: read-only. A change or delete attempt is refused
and logged (PROTECTED_WRITE); the county's retention rules and the units' guides stay editable.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows a signed record; never adds, changes or deletes one."""

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
