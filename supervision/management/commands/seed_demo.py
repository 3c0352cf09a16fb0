"""Demo data for a newcomer: sample villages, one user per role in two units, demo standards.

Lives in the top layer because it may seed every app's demo data; each app offers its own
`demo` module, called here when present.
"""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, RoleGrant, Unit, User, Village, VillageKind
from cases.models import Area, PolicyStandard, StandardKind

DEMO_PASSWORD = "Demo#2026dengkou"
# A fixed, public demo secret (base32 JBSWY3DPEHPK3PXP) so a newcomer can add it to any authenticator.
DEMO_TOTP_HEX = "48656c6c6f21deadbeef"
DEMO_STATIC_TOKENS = ["11111111", "22222222", "33333333", "44444444", "55555555"]

DEMO_UNITS = ["150822100", "150822101"]
DEMO_VILLAGES = {
    "150822100": [
        ("150822100201", "样例社区（演示）", VillageKind.COMMUNITY, "111"),
        ("150822100202", "样例嘎查（演示）", VillageKind.VILLAGE, "220"),
    ],
    "150822101": [
        ("150822101201", "样例村（演示）", VillageKind.VILLAGE, "220"),
        ("150822101202", "样例居委会（演示）", VillageKind.COMMUNITY, "121"),
    ],
}
UNIT_ROLES = [
    (Role.HANDLER, "handler", "经办"),
    (Role.DIRECT_RESPONSIBLE, "direct", "分管"),
    (Role.FIRST_RESPONSIBLE, "first", "第一责任"),
]
DEMO_STANDARDS = {
    (StandardKind.DIBAO, Area.URBAN): "840",
    (StandardKind.DIBAO, Area.RURAL): "670",
    (StandardKind.TEKUN_BASIC, Area.URBAN): "1380",
    (StandardKind.TEKUN_BASIC, Area.RURAL): "1020",
    (StandardKind.TEKUN_CARE_FULL, Area.URBAN): "1266",
    (StandardKind.TEKUN_CARE_FULL, Area.RURAL): "1266",
    (StandardKind.TEKUN_CARE_PARTIAL, Area.URBAN): "495",
    (StandardKind.TEKUN_CARE_PARTIAL, Area.RURAL): "495",
    (StandardKind.TEKUN_CARE_SELF, Area.URBAN): "0",
    (StandardKind.TEKUN_CARE_SELF, Area.RURAL): "0",
}
# Each app may offer `<app>.demo.seed(context)`; called in layer order when present.
DEMO_MODULES = ["cases.demo", "disbursement.demo", "supervision.demo"]


class Command(BaseCommand):
    help = "生成演示数据（样例嘎查村、两个单位各岗位演示账号、演示保障标准）并打印登录信息；可重复执行；生产模式下拒绝执行。"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--address",
            default="127.0.0.1:8000",
            help="服务地址（host:port），只用于打印登录地址；`make run` 传入其 HOST。",
        )

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("生产模式下不允许生成演示数据。")
        call_command("load_reference_data", verbosity=0)
        with transaction.atomic():
            logins = self._seed_people()
            self._seed_standards()
        context = {"logins": logins, "units": list(Unit.objects.filter(code__in=DEMO_UNITS))}
        for module_name in DEMO_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError:
                continue
            module.seed(context)
        self._print(logins, address=options["address"])

    def _seed_people(self) -> list[tuple[str, str, str, bool]]:
        logins: list[tuple[str, str, str, bool]] = []
        county = Unit.objects.get(code="150822")
        centre = Unit.objects.get(code="150822HDZX")
        if not county.complaint_phone:
            county.complaint_phone = "0478-0000000（演示）"
            county.save(update_fields=["complaint_phone"])
        for n, code in enumerate(DEMO_UNITS, start=1):
            unit = Unit.objects.get(code=code)
            if not unit.complaint_phone:
                unit.complaint_phone = f"0478-000000{n}（演示）"
                unit.save(update_fields=["complaint_phone"])
            villages = [self._village(unit, *spec) for spec in DEMO_VILLAGES[code]]
            for role, prefix, title in UNIT_ROLES:
                logins.append(self._user(f"{prefix}{n}", f"{unit.name}{title}（演示）", unit, role))
            for m, village in enumerate(villages, start=1):
                logins.append(
                    self._user(
                        f"assistant{n}{m}",
                        f"{village.name}协理员",
                        unit,
                        Role.VILLAGE_ASSISTANT,
                        village=village,
                    )
                )
        logins.append(
            self._user("supervisor", "县民政局监管员（演示）", county, Role.COUNTY_SUPERVISOR)
        )
        logins.append(
            self._user("finance", "县民政局资金管理员（演示）", county, Role.COUNTY_FINANCE)
        )
        logins.append(
            self._user("verifier", "核对中心核对员（演示）", centre, Role.VERIFICATION_OFFICER)
        )
        agency, _ = Unit.objects.get_or_create(
            code="150822TP01",
            defaults={
                "name": "样例社会工作服务中心（演示第三方）",
                "kind": "agency",
                "parent": county,
            },
        )
        logins.append(self._user("investigator", "第三方调查员（演示）", agency, Role.INVESTIGATOR))
        logins.append(
            self._user("admin", "系统管理员（演示）", county, Role.ADMINISTRATOR, staff=True)
        )
        # 三员分立: the audit log is read by its own officer, not by the administrator.
        logins.append(self._user("auditor", "安全审计员（演示）", county, Role.AUDIT_READER))
        return logins

    def _village(self, unit: Unit, code: str, name: str, kind: str, klass: str) -> Village:
        village, _ = Village.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "urban_rural_code": klass,
                "unit": unit,
                "is_sample": True,
            },
        )
        return village

    def _user(
        self,
        username: str,
        full_name: str,
        unit: Unit,
        role: str,
        *,
        village: Village | None = None,
        staff: bool = False,
    ):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "unit": unit,
                "village": village,
                "is_staff": staff,
                "is_superuser": staff,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        RoleGrant.objects.get_or_create(user=user, role=role)
        two_factor = user.needs_two_factor
        if two_factor:
            TOTPDevice.objects.get_or_create(
                user=user, name="演示令牌", defaults={"key": DEMO_TOTP_HEX, "confirmed": True}
            )
            static, _ = StaticDevice.objects.get_or_create(
                user=user, name="演示备用码", defaults={"confirmed": True}
            )
            for token in DEMO_STATIC_TOKENS:
                if not static.token_set.filter(token=token).exists():
                    StaticToken.objects.create(device=static, token=token)
        return (username, full_name, Role(role).label, two_factor)

    def _seed_standards(self) -> None:
        for (kind, area), amount in DEMO_STANDARDS.items():
            PolicyStandard.objects.get_or_create(
                kind=kind,
                area=area,
                effective_from=date(2023, 1, 1),
                defaults={
                    "amount": Decimal(amount),
                    "is_demo": True,
                    "note": "演示数值：内蒙古自治区2023年平均标准",
                },
            )

    def _print(self, logins: list[tuple[str, str, str, bool]], *, address: str) -> None:
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, full_name, role, two_factor in logins:
            mark = "  需动态口令" if two_factor else ""
            self.stdout.write(f"  {username:<14} {role:<16} {full_name}{mark}")
        self.stdout.write(
            "\n动态口令（签字、监管、管理岗位登录时填写），任选其一：\n"
            "  1. 在手机身份验证器中添加演示密钥 JBSWY3DPEHPK3PXP（TOTP，30秒，6位），输入其显示的口令；\n"
            "  2. 执行 `.venv/bin/python manage.py demo_otp 用户名` 打印当前口令；\n"
            f"  3. 使用一次性备用码（每个账号每个码只能用一次）：{'、'.join(DEMO_STATIC_TOKENS)}。"
        )
        self.stdout.write(
            f"\n浏览器打开 http://{address}/ 登录；接口文档 /api/docs/；公开信息 /public/。"
        )
