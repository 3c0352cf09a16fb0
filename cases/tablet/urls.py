"""The tablet app under /tablet/ (the service worker's scope)."""

from django.urls import path

from . import views

app_name = "tablet"

urlpatterns = [
    path("", views.shell, name="shell"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
    path("api/session/", views.session, name="session"),
    path("api/reference/", views.reference, name="reference"),
    path("api/applications/", views.application, name="applications"),
]
