"""Admin for the organisation tree and staff accounts.

The system administrator manages accounts, units and roles here, through the services that
enforce 三员分立 and write the audit log; second-factor secrets and API tokens are never shown,
and the audit log is read by the audit reader on its own page, not here.
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Notification, RoleGrant, Unit, User, Village, VillageChange, separation_problem
from .services import (
    grant_role,
    refuse_role_grant,
    remove_role,
    reset_second_factor,
    set_password_by_administrator,
)

# Django names its default permissions in English ("Can change 用户"); the lists read in Chinese.
PERMISSION_VERBS = {"add": "新增", "change": "修改", "delete": "删除", "view": "查看"}


def permission_label(permission: Permission) -> str:
    """ "组织与账户 | 用户 | 可修改用户": the default verbs in Chinese, custom names as written."""
    action, _, model = permission.codename.partition("_")
    verb = PERMISSION_VERBS.get(action)
    if verb and model == permission.content_type.model:
        model_class = permission.content_type.model_class()
        subject = model_class._meta.verbose_name if model_class else model
        return f"{permission.content_type} | 可{verb}{subject}"
    return f"{permission.content_type} | {permission.name}"


class ChinesePermissionsMixin:
    """Permission pickers (a user's own permissions, a group's) label each in Chinese."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Permission:
            field.label_from_instance = permission_label
        return field


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ChinesePermissionsMixin, BaseGroupAdmin):
    pass


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


class RoleGrantFormSet(forms.BaseInlineFormSet):
    """Check the roles the user will hold after this save, with the /admin/ flags just set;
    a refused grant is audited under the administrator who tried it."""

    def __init__(self, *args, request: HttpRequest | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> None:
        super().clean()
        roles = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            role = form.cleaned_data.get("role") or form.instance.role
            if role:
                roles.add(role)
        user = self.instance
        if problem := separation_problem(roles, admin_site_access=user.has_admin_site_access):
            if self.request is not None:
                held = set(user.role_grants.values_list("role", flat=True)) if user.pk else set()
                refused = roles - held
                refuse_role_grant(
                    user=user,
                    roles=refused,
                    problem=problem,
                    actor=self.request.user,
                    request=self.request,
                )
            raise ValidationError(problem)


class RoleGrantInline(admin.TabularInline):
    """Roles are granted and removed here, never edited: each is one audited service call."""

    model = RoleGrant
    formset = RoleGrantFormSet
    extra = 1
    fields = ["role", "granted_at"]
    readonly_fields = ["granted_at"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(ChinesePermissionsMixin, BaseUserAdmin):
    list_display = ["username", "full_name", "unit", "village", "is_active"]
    list_filter = ["unit", "role_grants__role", "is_active"]
    search_fields = ["username", "full_name", "phone"]
    inlines = [RoleGrantInline]
    actions = ["reset_two_factor"]
    # Every account signs in with a password: no "password-based authentication" switch,
    # whose help text Django leaves untranslated.
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
    )
    add_form_template = "admin/accounts/user/add_form.html"
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            "单位与岗位",
            {"fields": ("full_name", "phone", "unit", "village", "must_change_password")},
        ),
    )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # staff keep their signatures and history; retire with is_active

    def get_formset_kwargs(self, request: HttpRequest, obj, inline, prefix: str) -> dict:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if inline.model is RoleGrant and request.method == "POST":
            kwargs["request"] = request
        return kwargs

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        """A valid new password goes through the audited service; the rest is Django's view."""
        user = self.get_object(request, unquote(id)) if request.method == "POST" else None
        if user is None or not self.has_change_permission(request, user):
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        usable = form.is_valid() and form.cleaned_data["set_usable_password"]
        if not form.is_valid() or not (usable or "unset-password" in request.POST):
            return super().user_change_password(request, id, form_url)
        set_password_by_administrator(
            user=user,
            raw_password=form.cleaned_data["password1"] if usable else None,
            actor=request.user,
            request=request,
        )
        self.log_change(request, user, "修改密码")
        messages.success(request, "密码已设置。" if usable else "已停用该账户的密码登录。")
        if user.pk == request.user.pk:
            update_session_auth_hash(request, user)
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=(user.pk,)))

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not RoleGrant:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for grant_form in formset.forms:
            grant = grant_form.instance
            if formset._should_delete_form(grant_form):
                if grant.pk is not None:
                    remove_role(grant=grant, actor=request.user, request=request)
                    formset.deleted_objects.append(grant)
            elif grant.pk is None and grant_form.has_changed():
                role = grant_form.cleaned_data["role"]
                formset.new_objects.append(
                    grant_role(user=form.instance, role=role, actor=request.user, request=request)
                )
        return None

    @admin.action(description="重置所选用户的动态口令令牌（下次登录重新绑定）")
    def reset_two_factor(self, request: HttpRequest, queryset) -> None:
        removed = sum(
            reset_second_factor(user=user, actor=request.user, request=request) > 0
            for user in queryset
        )
        self.message_user(request, f"已重置{removed}名用户的动态口令令牌。", messages.SUCCESS)


class DeviceAdmin(admin.ModelAdmin):
    """Which second-factor devices exist, never their keys or codes; reset them on the user."""

    list_display = ["user", "name", "confirmed", "created", "last_used"]
    fields = ["user", "name", "confirmed", "created", "last_used"]
    readonly_fields = fields

    # The devices' own columns carry English help texts; these say the same in Chinese.
    @admin.display(description="绑定时间")
    def created(self, device) -> str:
        return _local(device.created_at)

    @admin.display(description="最近使用时间")
    def last_used(self, device) -> str:
        return _local(device.last_used_at)

    search_fields = ["user__username", "user__full_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)
    admin.site.register(device_model, DeviceAdmin)

# API tokens (accounts.ApiToken) have no admin page: a token signs in as its user, and an
# administrator who could read a leader's token could sign.


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "title", "read_at"]
    search_fields = ["title", "key"]


# Beat's schedule is written from dengkou_aid/schedules.py by setup_schedules, not edited by
# hand; its admin pages (time-zone lists, task paths, English help) are not the county's.
for beat_model in apps.get_app_config("django_celery_beat").get_models():
    if admin.site.is_registered(beat_model):
        admin.site.unregister(beat_model)
