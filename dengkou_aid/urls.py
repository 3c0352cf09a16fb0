"""URL map: each app's pages (its urls.py) and its API (its api_urls.py) mounted once."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from . import files
from .home import home


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    return HttpResponsePermanentRedirect(static("img/favicon.ico"))


admin.site.site_header = "磴口县社会救助审核确认系统 · 管理后台"
admin.site.site_title = "磴口县社会救助"

# The API documentation pages load their scripts from files (the split Swagger view, a Redoc
# template without inline script); only their widgets' inline styles are allowed, here alone.
docs_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["'self'", "blob:"]})

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="home", permanent=False)),
    path("home/", home, name="home"),
    # Browsers ask for /favicon.ico before reading the page's icon link.
    path("favicon.ico", favicon),
    # Every stored file goes out through one permission-checked door; MEDIA_ROOT is never
    # routed. The older paths below stay for links already sent in notifications.
    path("files/<str:kind>/<int:pk>/", files.download, name="file"),
    path("documents/<int:pk>/file/", files.download, {"kind": "document"}),
    path("disbursement/exports/<int:pk>/download/", files.download, {"kind": "export"}),
    path("supervision/bulletins/<int:pk>/pdf/", files.download, {"kind": "bulletin"}),
    path("accounts/", include("accounts.urls")),
    # cases and disbursement each own several prefixes (/cases/, /documents/, /public/;
    # /disbursement/, /imports/, /reviews/): their urls.py carry them.
    path("", include("cases.urls")),
    path("", include("disbursement.urls")),
    path("supervision/", include("supervision.urls")),
    # The admin signs in through the one sign-in page, with its second factor.
    path(
        "admin/login/",
        RedirectView.as_view(url="/accounts/login/?next=/admin/", query_string=False),
    ),
    path("admin/", admin.site.urls),
    path("api/", include("accounts.api_urls")),
    path("api/", include("cases.api_urls")),
    path("api/", include("disbursement.api_urls")),
    path("api/", include("supervision.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        docs_csp(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
]
