"""The supervision app's API, under /api/supervision/."""

from django.urls import include, path

from . import api

supervision_api_patterns = [
    path("dashboard/", api.DashboardApi.as_view(), name="api-supervision-dashboard"),
    path("findings/", api.FindingListApi.as_view(), name="api-findings"),
    path("findings/<int:finding_id>/", api.FindingDetailApi.as_view(), name="api-finding"),
    path(
        "spot-checks/samples/<int:sample_id>/",
        api.SpotCheckRecordApi.as_view(),
        name="api-spot-check-record",
    ),
]

urlpatterns = [path("supervision/", include(supervision_api_patterns))]
