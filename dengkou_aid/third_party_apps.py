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

from dengkou_aid.lib.labels import translatable


def _access_log_str(entry) -> str:
    return f"{entry.username} 于 {entry.attempt_time:%Y-%m-%d %H:%M} 的登录记录"


def _access_attempt_str(entry) -> str:
    return f"{entry.username} 于 {entry.attempt_time:%Y-%m-%d %H:%M} 的登录尝试"


class AuthConfig(AuthBaseConfig):
    verbose_name = "认证和授权"


class AxesConfig(AxesBaseConfig):
    verbose_name = "登录失败锁定"

    def ready(self):
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        translatable(self)
        # Axes names its records in English ("Access Log for …"); the admin shows these.
        AccessLog.__str__ = _access_log_str
        AccessAttempt.__str__ = _access_attempt_str
        AccessFailureLog.__str__ = _access_attempt_str


class TotpConfig(TotpBaseConfig):
    verbose_name = "动态口令令牌"

    def ready(self):
        super().ready()
        translatable(self)


class StaticConfig(StaticBaseConfig):
    verbose_name = "备用验证码"

    def ready(self):
        super().ready()
        translatable(self)


class GuardianConfig(GuardianBaseConfig):
    verbose_name = "对象权限"

    def ready(self):
        super().ready()
        translatable(self)


class BeatConfig(BeatBaseConfig):
    verbose_name = "定时任务"
