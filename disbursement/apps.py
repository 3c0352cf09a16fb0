from django.apps import AppConfig


class DisbursementConfig(AppConfig):
    name = "disbursement"
    verbose_name = "资金发放"

    def ready(self) -> None:
        # Registers the import record as the first section of an imported case's archive.
        from .imports import caseload as caseload_import  # noqa: F401
        from .reviews import archive as review_archive  # noqa: F401
