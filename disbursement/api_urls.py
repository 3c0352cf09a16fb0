"""The disbursement app's API, under /api/: rosters and entitlements, dynamic management."""

from django.urls import include, path

from . import api

roster_api_patterns = [
    path("rosters/", api.RosterListApi.as_view(), name="api-rosters"),
    path("rosters/generate/", api.RosterGenerateApi.as_view(), name="api-roster-generate"),
    path(
        "rosters/supplementary/",
        api.RosterSupplementaryApi.as_view(),
        name="api-roster-supplementary",
    ),
    path("rosters/<int:roster_id>/", api.RosterDetailApi.as_view(), name="api-roster"),
    path("rosters/<int:roster_id>/sign/", api.RosterSignApi.as_view(), name="api-roster-sign"),
    path(
        "rosters/<int:roster_id>/submit/", api.RosterSubmitApi.as_view(), name="api-roster-submit"
    ),
    path(
        "rosters/<int:roster_id>/return/", api.RosterReturnApi.as_view(), name="api-roster-return"
    ),
    path(
        "rosters/<int:roster_id>/regenerate/",
        api.RosterSupplementaryRegenerateApi.as_view(),
        name="api-roster-regenerate",
    ),
    path(
        "rosters/<int:roster_id>/discard/",
        api.RosterDiscardApi.as_view(),
        name="api-roster-discard",
    ),
    path("entitlements/", api.EntitlementCreateApi.as_view(), name="api-entitlement-create"),
    path(
        "entitlements/<int:entitlement_id>/adjust/",
        api.EntitlementAdjustApi.as_view(),
        name="api-entitlement-adjust",
    ),
    path("fund-requests/", api.FundRequestApi.as_view(), name="api-fund-request"),
]

urlpatterns = [
    path("disbursement/", include(roster_api_patterns)),
    path("reviews/", include("disbursement.reviews.api_urls")),
]
