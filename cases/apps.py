from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "救助案件"

    def ready(self) -> None:
        from dengkou_aid.lib.labels import translatable

        translatable(self)  # fields named only by attribute read in Chinese in /admin/
