from django.contrib import admin

from .models import (
    AssessmentWeights,
    Bulletin,
    Complaint,
    Finding,
    Rectification,
    Revocation,
    SpotCheckDraw,
    SpotCheckSample,
)


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("id", "rule", "unit", "case", "state", "first_seen", "last_seen")
    list_filter = ("rule", "state", "unit")
    raw_id_fields = ("case",)


@admin.register(SpotCheckDraw)
class SpotCheckDrawAdmin(admin.ModelAdmin):
    list_display = ("id", "period_start", "period_end", "seed", "drawn_at", "drawn_by", "redraw_of")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SpotCheckSample)
class SpotCheckSampleAdmin(admin.ModelAdmin):
    list_display = ("id", "draw", "unit", "kind", "case", "checked_at")
    raw_id_fields = ("case",)


@admin.register(Bulletin, Revocation)
class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rectification)
class RectificationAdmin(admin.ModelAdmin):
    list_display = ("id", "unit", "finding", "due_on", "state")
    list_filter = ("state", "unit")


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("id", "received_on", "channel", "subject", "unit", "state", "due_on")
    list_filter = ("state", "channel")
    exclude = ("complainant_name", "complainant_contact")
    raw_id_fields = ("case",)


admin.site.register(AssessmentWeights)
