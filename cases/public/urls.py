"""Public pages under /public/, open without sign-in."""

from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:code>/guide/", views.guide, name="guide"),
    path("<str:code>/publicity/", views.publicity, name="publicity"),
]
