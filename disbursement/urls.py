"""The disbursement app's pages: rosters and money, imports, dynamic management."""

from django.urls import include, path

from . import views
from .reviews import tablet

roster_patterns = [
    path("", views.roster_list, name="roster_list"),
    path("rosters/generate/", views.roster_generate, name="roster_generate"),
    path("rosters/supplementary/", views.roster_supplementary, name="roster_supplementary"),
    path("rosters/<int:roster_id>/", views.roster_detail, name="roster_detail"),
    path(
        "rosters/<int:roster_id>/regenerate/",
        views.roster_supplementary_regenerate,
        name="roster_supplementary_regenerate",
    ),
    path("rosters/<int:roster_id>/discard/", views.roster_discard, name="roster_discard"),
    path("rosters/<int:roster_id>/sign/", views.roster_sign, name="roster_sign"),
    path("rosters/<int:roster_id>/submit/", views.roster_submit, name="roster_submit"),
    path("rosters/<int:roster_id>/return/", views.roster_return, name="roster_return"),
    path("cases/<int:case_id>/account/", views.entitlement_create, name="entitlement_create"),
    path("exports/", views.export_start, name="export_start"),
    path("exports/<int:job_id>/", views.export_status, name="export_status"),
    path("county/<str:month>/", views.county_month, name="county_month"),
    path("county/<str:month>/fund-request/", views.county_fund_request, name="county_fund_request"),
    path(
        "county/<str:month>/fund-request/<int:request_id>/letter.pdf",
        views.county_fund_request_letter,
        name="county_fund_request_letter",
    ),
    path("county/<str:month>/fund-release/", views.county_fund_release, name="county_fund_release"),
    path("county/<str:month>/leave/", views.county_roster_leave, name="county_roster_leave"),
    path("plan/<int:year>/", views.plan_page, name="plan"),
]

urlpatterns = [
    path("imports/", include("disbursement.imports.urls")),
    path("disbursement/", include((roster_patterns, "disbursement"))),
    path("reviews/", include("disbursement.reviews.urls")),
    # The village tablet sends its offline change reports beside the cases tablet's drafts.
    path("tablet/api/change-reports/", tablet.endpoint, name="tablet-change-reports"),
]
