"""The tablet app: its shell (served to anyone, it holds no data), manifest and service worker,
and the JSON the app reads and sends. The data endpoints answer 401 with a Chinese message
when the idle sign-out has ended the session: the drafts stay on the device meanwhile.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from dengkou_aid.errors import DomainError

from . import selectors, services
from .models import SyncState, TabletSync

# What the service worker keeps for offline use (the shell page is added by the view).
SHELL_FILES = (
    "css/app.css",
    "css/tablet.css",
    "js/tablet/vault.js",
    "js/tablet/app.js",
    "vendor/idb/umd.js",
    "vendor/signature_pad/signature_pad.umd.min.js",
    "vendor/workbox-window/workbox-window.prod.umd.js",
    "tablet/icon-192.png",
    "tablet/icon-512.png",
)
SIGN_IN_AGAIN = "登录已过期或尚未登录，请重新登录后再同步；草稿仍保留在本机。"


def assistant_json(view: Callable) -> Callable:
    """A village assistant's JSON endpoint: 401 when signed out, 403 for other roles."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"message": SIGN_IN_AGAIN}, status=401)
        if not request.user.has_role(Role.VILLAGE_ASSISTANT):
            return JsonResponse({"message": "平板离线采集仅供嘎查村/社区协理员使用。"}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
def shell(request: HttpRequest) -> HttpResponse:
    return render(request, "tablet/shell.html")


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    body = {
        "name": "磴口县社会救助 · 协理员平板",
        "short_name": "协理员平板",
        "lang": "zh-CN",
        "start_url": "/tablet/",
        "scope": "/tablet/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": "#1f5f8b",
        "icons": [
            {"src": static(f"tablet/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
            for n in (192, 512)
        ],
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type="application/manifest+json"
    )


def _revision(path: str) -> str:
    found = finders.find(path)
    if not found:
        return ""
    with open(found, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, listing every file of the shell with a revision of its content."""
    shell_html = render_to_string("tablet/shell.html", request=None)
    entries = [
        {"url": "/tablet/", "revision": hashlib.sha256(shell_html.encode()).hexdigest()[:12]}
    ]
    entries += [{"url": static(path), "revision": _revision(path)} for path in SHELL_FILES]
    body = render_to_string(
        "tablet/sw.js",
        {
            "workbox_sw": static("vendor/workbox/workbox-sw.js"),
            "workbox_prefix": f"{settings.STATIC_URL}vendor/workbox",
            "precache": json.dumps(entries),
        },
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def session(request: HttpRequest) -> JsonResponse:
    """Who is signed in, and the CSRF token for the next sends (never cached)."""
    user = request.user
    return JsonResponse(
        {
            "signed_in": user.is_authenticated,
            "assistant": user.is_authenticated and user.has_role(Role.VILLAGE_ASSISTANT),
            "supervisor": user.is_authenticated
            and user.is_county_staff
            and user.has_role(Role.COUNTY_SUPERVISOR),
            "name": (user.full_name or user.username) if user.is_authenticated else "",
            "user": user.pk if user.is_authenticated else None,
            "csrf": get_token(request),
            "server_time": timezone.localtime().isoformat(),
        }
    )


@require_GET
@assistant_json
def reference(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.reference_data(request.user))


STATUS = {SyncState.ACCEPTED: 200, SyncState.CONFLICT: 409}


def receipt_response(receipt: TabletSync) -> JsonResponse:
    """The answer to a draft: the same for every retry of an accepted one."""
    status = STATUS.get(receipt.state) or receipt.result.get("status", 400)
    accepted_at = timezone.localtime(receipt.accepted_at).isoformat() if receipt.accepted_at else ""
    return JsonResponse(
        {
            "key": str(receipt.key),
            "state": receipt.state,
            "state_label": receipt.get_state_display(),
            "message": receipt.message,
            "result": receipt.result,
            "received_at": timezone.localtime(receipt.received_at).isoformat(),
            "accepted_at": accepted_at,
            "attempts": receipt.attempts,
        },
        status=status,
    )


def draft_endpoint(receive: Callable, guard: Callable = assistant_json) -> Callable:
    """A POST of one draft (JSON): the owner's `receive(actor=, body=)` returns the receipt.
    `guard` admits the role the draft belongs to (village assistants unless told)."""

    @require_POST
    @guard
    def view(request: HttpRequest) -> JsonResponse:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse({"message": "提交内容无法识别，请重试。"}, status=400)
        if not isinstance(body, dict):
            return JsonResponse({"message": "提交内容无法识别，请重试。"}, status=400)
        try:
            receipt = receive(actor=request.user, body=body)
        except DomainError as error:
            return JsonResponse(
                {"state": SyncState.REFUSED, "message": error.message}, status=error.status
            )
        return receipt_response(receipt)

    return view


application = draft_endpoint(services.receive_application)
