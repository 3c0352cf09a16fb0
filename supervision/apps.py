from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "监督管理"

    def ready(self) -> None:
        # Registers the revocation section of the case archive.
        from . import archive  # noqa: F401
