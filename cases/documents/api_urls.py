"""API routes under /api/documents/."""

from django.urls import path

from . import api

app_name = "documents-api"

urlpatterns = [
    path("cases/<int:pk>/", api.CaseDocumentsView.as_view(), name="case_documents"),
    path("cases/<int:pk>/completeness/", api.CompletenessView.as_view(), name="completeness"),
    path("<int:pk>/", api.DocumentDetailView.as_view(), name="document"),
]
