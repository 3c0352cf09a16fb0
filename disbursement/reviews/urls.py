"""Dynamic management pages, under /reviews/."""

from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("", views.review_list, name="list"),
    path("<int:pk>/", views.review_detail, name="detail"),
    path("households/<int:pk>/", views.household_history, name="household"),
    path("households/<int:pk>/open/", views.open_review_view, name="open"),
    path("reports/", views.report_list, name="reports"),
    path("reports/new/", views.report_new, name="report_new"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("comparisons/", views.comparison_list, name="comparisons"),
    path("comparisons/<int:pk>/", views.comparison_detail, name="comparison"),
]
