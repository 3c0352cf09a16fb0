from django.apps import AppConfig


class DisbursementConfig(AppConfig):
    name = "disbursement"
    verbose_name = "资金发放"

    def ready(self) -> None:
        # Registers the import record as the first section of an imported case's archive.
        # The case page and the public list show the amount in force through cases.payments.
        from cases.payments import register_amounts

        from .imports import caseload as caseload_import  # noqa: F401
        from .in_force import shown_amounts_for_cases

        register_amounts(shown_amounts_for_cases)

        # Adjustments, stops, reviews and payments join the unit ledgers (台账).
        from . import ledgers  # noqa: F401
        from .reviews import archive as review_archive  # noqa: F401
