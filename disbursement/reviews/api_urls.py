"""API routes of the dynamic management, under /api/reviews/."""

from django.urls import path

from . import api

urlpatterns = [
    path("households/", api.HouseholdsView.as_view(), name="api-review-households"),
    path("change-reports/", api.ChangeReportsView.as_view(), name="api-change-reports"),
    path(
        "change-reports/<int:pk>/decision/",
        api.DecisionView.as_view(),
        name="api-change-report-decision",
    ),
]
