"""Case pages under /cases/."""

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.new_application, name="new"),
    path("verification/", views.verification_queue, name="verification"),
    path("verification/<int:pk>/report/", views.verification_report, name="verification_report"),
    path("<int:pk>/", views.case_page, name="detail"),
    path("<int:pk>/upload/", views.upload, name="upload"),
    path("<int:pk>/do/<str:name>/", views.take_step, name="step"),
]
