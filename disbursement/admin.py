"""Admin: read-only views of money records; rosters and their lines are never edited here."""

from django.contrib import admin

from cases.documents.admin import ReadOnlyAdmin

from .models import (
    CountyFundRequest,
    Entitlement,
    EntitlementChange,
    ExportJob,
    FundDemandPlan,
    FundRelease,
    PaymentRoster,
    RosterEvent,
    RosterLine,
    RosterSignature,
)

# Money records change only through the services, which check and log each change.


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "unit",
        "holder_name",
        "category",
        "monthly_amount",
        "start_month",
        "end_month",
        "account_masked",
    ]
    list_filter = ["category", "unit"]
    exclude = ["account_number"]
    readonly_fields = ["account_masked"]


@admin.register(EntitlementChange)
class EntitlementChangeAdmin(ReadOnlyAdmin):
    list_display = ["entitlement", "effective_month", "kind", "old_amount", "new_amount", "source"]
    list_filter = ["kind", "source"]


@admin.register(PaymentRoster)
class PaymentRosterAdmin(ReadOnlyAdmin):
    list_display = ["id", "unit", "month", "kind", "state", "line_count", "total_amount"]
    list_filter = ["state", "kind", "month"]


@admin.register(RosterLine)
class RosterLineAdmin(ReadOnlyAdmin):
    list_display = ["roster", "holder_name", "category", "amount", "account_masked"]
    exclude = ["account_number"]


for model in (
    RosterSignature,
    RosterEvent,
    CountyFundRequest,
    FundRelease,
    FundDemandPlan,
    ExportJob,
):
    admin.site.register(model, ReadOnlyAdmin)
