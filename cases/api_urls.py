"""The cases app's API, under /api/: cases and households, and the documents of a case."""

from django.urls import include, path

from . import api
from .facts import api as fact_api

case_api_patterns = [
    path("", api.CaseListView.as_view(), name="list"),
    path("<int:pk>/", api.CaseDetailView.as_view(), name="detail"),
    path("<int:pk>/events/", api.CaseEventsView.as_view(), name="events"),
    path("<int:pk>/materials/", api.MaterialsView.as_view(), name="materials"),
    path("<int:pk>/facts/", fact_api.HouseholdFactsView.as_view(), name="facts"),
    path("<int:pk>/transitions/<str:name>/", api.TransitionView.as_view(), name="transition"),
    path("households/", api.HouseholdListView.as_view(), name="households"),
    path("households/<int:pk>/", api.HouseholdDetailView.as_view(), name="household"),
    path("households/<int:pk>/members/", api.MemberListView.as_view(), name="members"),
]

urlpatterns = [
    path("documents/", include("cases.documents.api_urls")),
    path("cases/", include((case_api_patterns, "cases-api"))),
]
