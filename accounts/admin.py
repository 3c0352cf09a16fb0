from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AuditLog, Notification, RoleGrant, Unit, User, Village, VillageChange


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # units keep their history; retire with is_active


class VillageChangeInline(admin.TabularInline):
    model = VillageChange
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "old_value", "new_value", "source", "at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "unit", "urban_rural_code", "is_active", "merged_into"]
    list_filter = ["unit", "kind", "is_active"]
    search_fields = ["code", "name"]
    inlines = [VillageChangeInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "unit", "village", "is_active"]
    list_filter = ["unit", "role_grants__role", "is_active"]
    search_fields = ["username", "full_name", "phone"]
    inlines = [RoleGrantInline]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            "单位与岗位",
            {"fields": ("full_name", "phone", "unit", "village", "must_change_password")},
        ),
    )


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "username", "ip_address", "path", "detail"]
    list_filter = ["action"]
    search_fields = ["username", "detail", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "title", "read_at"]
    search_fields = ["title", "key"]
