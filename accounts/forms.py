"""Sign-in and password forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django_otp import devices_for_user, match_token

from .models import AuditLog, User


class SignInForm(forms.Form):
    """Username and password; a one-time code for roles that sign or supervise."""

    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", widget=forms.PasswordInput, strip=False)
    otp_token = forms.CharField(
        label="动态口令",
        max_length=16,
        required=False,
        help_text="签字、监管和管理岗位须填写手机令牌上的6位动态口令。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        self.request = request
        self.user: User | None = None
        self.device = None
        self.needs_enrolment = False
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        data = super().clean()
        username, password = data.get("username"), data.get("password")
        if not username or not password:
            return data
        user = authenticate(self.request, username=username, password=password)
        if getattr(self.request, "axes_locked_out", False):
            raise forms.ValidationError(
                "该账户因连续5次登录失败已被锁定30分钟，请稍后再试或联系系统管理员。",
                code="locked",
            )
        if user is None:
            raise forms.ValidationError("用户名或密码错误。", code="invalid_login")
        if not user.is_active:
            raise forms.ValidationError("该账户已停用。", code="inactive")
        if user.needs_two_factor:
            self.device = self._check_second_factor(user, data.get("otp_token", ""))
        self.user = user
        return data

    def _check_second_factor(self, user: User, token: str):
        if not any(devices_for_user(user, confirmed=True)):
            # First sign-in, or after the administrator reset the token: bind one now.
            self.needs_enrolment = True
            return None
        device = match_token(user, token.strip()) if token else None
        if device is None:
            # Counts toward the lock-out like a wrong password.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
                reason="otp",
            )
            raise forms.ValidationError("动态口令缺失或错误。", code="invalid_otp")
        return device


class ChangePasswordForm(PasswordChangeForm):
    """Django's old-password check and password rules; accounts.services.change_password saves."""


class AuditLogFilterForm(forms.Form):
    """The audit reader's filters: action, user name and a date range (Asia/Shanghai days)."""

    action = forms.ChoiceField(
        label="事件", required=False, choices=[("", "全部"), *AuditLog.Action.choices]
    )
    username = forms.CharField(label="用户名", max_length=150, required=False)
    since = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput({"type": "date"})
    )

    def filter(self, rows):
        data = self.cleaned_data
        if data["action"]:
            rows = rows.filter(action=data["action"])
        if data["username"]:
            rows = rows.filter(username__icontains=data["username"])
        if data["since"]:
            rows = rows.filter(at__date__gte=data["since"])
        if data["until"]:
            rows = rows.filter(at__date__lte=data["until"])
        return rows


class EnrolTokenForm(forms.Form):
    otp_token = forms.CharField(
        label="动态口令",
        max_length=8,
        help_text="用手机令牌应用扫描二维码后，填写它显示的6位动态口令。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
