from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "组织与账户"

    def ready(self) -> None:
        from . import audit  # noqa: F401  (connects the sign-in audit receivers)
