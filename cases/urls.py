"""The cases app's pages: case pages under /cases/, deadlines, documents, public pages, the tablet."""

from django.urls import include, path

from . import views
from .facts import views as fact_views

case_patterns = [
    path("", views.case_list, name="list"),
    path("new/", views.new_application, name="new"),
    path("verification/", views.verification_queue, name="verification"),
    path("assessment-rules/", fact_views.assessment_rules, name="assessment_rules"),
    path("verification/<int:pk>/", views.verification_task, name="verification_task"),
    path("verification/<int:pk>/report/", views.verification_report, name="verification_report"),
    path("verification/rechecks/<int:pk>/report/", views.recheck_report, name="recheck_report"),
    path("<int:pk>/", views.case_page, name="detail"),
    path("<int:pk>/upload/", views.upload, name="upload"),
    path("<int:pk>/facts/", fact_views.change_fact, name="facts"),
    path("<int:pk>/do/<str:name>/", views.take_step, name="step"),
]

urlpatterns = [
    path("cases/", include((case_patterns, "cases"))),
    path("documents/", include("cases.documents.urls")),
    path("public/", include("cases.public.urls")),
    path("cases/deadlines/", include("cases.deadlines.urls")),
    path("tablet/", include("cases.tablet.urls")),
]
