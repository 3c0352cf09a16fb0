from django.urls import path, re_path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    re_path(
        r"^template/(?P<kind>caseload|staff)\.(?P<fmt>xlsx|csv)$", views.template, name="template"
    ),
    re_path(r"^upload/(?P<kind>caseload|staff)/$", views.upload, name="upload"),
    path("<int:pk>/", views.batch_detail, name="batch"),
    path("<int:pk>/status.json", views.batch_status, name="status"),
    path("<int:pk>/errors.csv", views.batch_errors, name="errors"),
    path("<int:pk>/confirm/", views.batch_confirm, name="confirm"),
]
