from django.apps import AppConfig


class DisbursementConfig(AppConfig):
    name = "disbursement"
    verbose_name = "资金发放"
