from django.urls import include, path

from . import tablet, views
from .agencies import views as agency_views

app_name = "supervision"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.refresh_dashboard, name="refresh_dashboard"),
    path("findings/", views.finding_list, name="findings"),
    path("findings/run/", views.run_checks, name="run_checks"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("findings/<int:pk>/rectify/", views.order_rectification, name="order_rectification"),
    path(
        "rectifications/<int:pk>/answer/", views.answer_rectification, name="answer_rectification"
    ),
    path(
        "rectifications/<int:pk>/decide/", views.decide_rectification, name="decide_rectification"
    ),
    path("cases/<int:case_id>/revoke/", views.revoke, name="revoke"),
    path("spot-checks/", views.draw_list, name="draws"),
    path("spot-checks/<int:pk>/", views.draw_detail, name="draw"),
    path("spot-checks/samples/<int:pk>/", views.sample_check, name="sample"),
    path("tablet/reference/", tablet.reference, name="tablet_reference"),
    path("tablet/spot-checks/", tablet.spot_checks, name="tablet_spot_checks"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("complaints/", include("supervision.complaints.urls")),
    path("complaints/", views.complaint_list, name="complaints"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint"),
    path("training/", include("supervision.training.urls")),
    path("statistics/", views.statistics, name="statistics"),
    path("agencies/", views.agencies, name="agencies"),
    path(
        "agencies/<int:agency_id>/acceptance/<int:year>/",
        agency_views.acceptance,
        name="agency_acceptance",
    ),
    path("assessment/", views.assessment, name="assessment"),
    path(
        "assessment/<int:year>/<int:unit_id>/",
        views.assessment_evidence,
        name="assessment_evidence",
    ),
]
