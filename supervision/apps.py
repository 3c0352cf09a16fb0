from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "监督管理"

    def ready(self) -> None:
        from dengkou_aid.lib.labels import translatable

        translatable(self)  # fields named only by attribute read in Chinese in /admin/
        # Registers the revocation section of the case archive.
        from . import archive  # noqa: F401
