"""Admin: supervision records are view-only; they change only through the services, which
check who acts and write each step (findings, draws, samples, bulletins, rectifications,
revocations, complaints)."""

from django.contrib import admin

from cases.documents.admin import ReadOnlyAdmin

from .models import (
    AgencyAcceptance,
    AssessmentWeights,
    Attendance,
    Bulletin,
    Complaint,
    ComplaintReply,
    CountySignature,
    Finding,
    Rectification,
    RectificationAttachment,
    Revocation,
    RevocationDecision,
    SpotCheckDraw,
    SpotCheckSample,
    TrainingMaterial,
    TrainingMaterialVersion,
    TrainingSession,
)


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("id", "rule", "unit", "case", "state", "first_seen", "last_seen")
    list_filter = ("rule", "state", "unit")


@admin.register(SpotCheckDraw)
class SpotCheckDrawAdmin(ReadOnlyAdmin):
    list_display = ("id", "period_start", "period_end", "seed", "drawn_at", "drawn_by", "redraw_of")


@admin.register(SpotCheckSample)
class SpotCheckSampleAdmin(ReadOnlyAdmin):
    list_display = ("id", "draw", "unit", "kind", "case", "checked_at")


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "unit", "finding", "due_on", "state")
    list_filter = ("state", "unit")


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("id", "received_on", "channel", "subject", "unit", "state", "due_on")
    list_filter = ("state", "channel")
    exclude = ("complainant_name", "complainant_contact")


admin.site.register(
    (
        Bulletin,
        Revocation,
        RevocationDecision,
        RectificationAttachment,
        ComplaintReply,
        AgencyAcceptance,
        CountySignature,
        TrainingMaterial,
        TrainingMaterialVersion,
        TrainingSession,
        Attendance,
    ),
    ReadOnlyAdmin,
)
admin.site.register(AssessmentWeights)
