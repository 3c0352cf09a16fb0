"""Third-party apps under Chinese names: the admin index and permission lists show these
instead of "Axes" or "Otp_Totp". Each subclasses the app's own config, so labels, tables and
start-up hooks stay the app's."""

from __future__ import annotations

from axes.apps import AppConfig as AxesBaseConfig
from django.contrib.auth.apps import AuthConfig as AuthBaseConfig
from django_celery_beat.apps import BeatConfig as BeatBaseConfig
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticBaseConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpBaseConfig
from guardian.apps import GuardianConfig as GuardianBaseConfig


class AuthConfig(AuthBaseConfig):
    verbose_name = "认证和授权"


class AxesConfig(AxesBaseConfig):
    verbose_name = "登录失败锁定"


class TotpConfig(TotpBaseConfig):
    verbose_name = "动态口令令牌"


class StaticConfig(StaticBaseConfig):
    verbose_name = "备用验证码"


class GuardianConfig(GuardianBaseConfig):
    verbose_name = "对象权限"


class BeatConfig(BeatBaseConfig):
    verbose_name = "定时任务"
