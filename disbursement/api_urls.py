from django.urls import path

from . import api

urlpatterns = [
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
    path("entitlements/", api.EntitlementCreateApi.as_view(), name="api-entitlement-create"),
    path(
        "entitlements/<int:entitlement_id>/adjust/",
        api.EntitlementAdjustApi.as_view(),
        name="api-entitlement-adjust",
    ),
    path("fund-requests/", api.FundRequestApi.as_view(), name="api-fund-request"),
]
