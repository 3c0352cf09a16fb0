from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "组织与账户"

    def ready(self) -> None:
        from dengkou_aid.lib.labels import translatable

        translatable(self)  # fields named only by attribute read in Chinese in /admin/
        from . import audit  # noqa: F401  (connects the sign-in audit receivers)
