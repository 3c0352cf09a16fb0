"""Staff pages for documents, archives, ledgers, handovers, retention and service guides."""

from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("cases/<int:case_id>/archive/", views.archive_page, name="archive"),
    path("cases/<int:case_id>/archive.pdf", views.archive_export, name="archive_export"),
    path("cases/<int:case_id>/issue/", views.issue, name="issue"),
    path("cases/<int:case_id>/legacy-scans/", views.legacy_scan, name="legacy_scan"),
    path(
        "cases/<int:case_id>/files/<int:file_id>/correct/", views.correct_file, name="correct_file"
    ),
    path("cases/<int:case_id>/destroy/", views.destroy, name="destroy"),
    path("<int:pk>/", views.document_detail, name="document"),
    path("ledgers/", views.ledger_page, name="ledgers"),
    path("villages/publicity/", views.village_publicity, name="village_publicity"),
    path("handovers/", views.handover_list, name="handovers"),
    path("handovers/new/", views.handover_new, name="handover_new"),
    path("handovers/<int:pk>/", views.handover_detail, name="handover"),
    path("handovers/<int:pk>/sign/", views.handover_sign, name="handover_sign"),
    path("retention/", views.retention_page, name="retention"),
    path("guides/<str:kind>/", views.guide_edit, name="guide_edit"),
]
