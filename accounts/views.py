"""Sign-in, sign-out, password change and notifications pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from .access import require_audit_reader
from .audit import record
from .forms import AuditLogFilterForm, ChangePasswordForm, SignInForm
from .models import AuditLog


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """What a locked-out account sees, on the page or through the API."""
    message = "该账户因连续5次登录失败已被锁定30分钟，请稍后再试或联系系统管理员。"
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"detail": message}, status=403)
    return render(
        request, "accounts/login.html", {"form": SignInForm(request), "locked": message}, status=403
    )


def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend="django.contrib.auth.backends.ModelBackend")
        if form.device is not None:
            otp_login(request, form.device)
        target = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
            target = ""
        return redirect(target or "home")
    if request.GET.get("otp") == "required":
        messages.warning(request, "您的岗位须使用动态口令重新登录。")
    return render(
        request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "您已安全退出。")
    return redirect("accounts:login")


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        record(AuditLog.Action.PASSWORD_CHANGED, request=request, user=user)
        messages.success(request, "密码已修改。")
        return redirect("home")
    reason = ""
    if request.user.must_change_password:
        reason = "首次登录须修改初始密码。"
    elif request.user.password_expired:
        reason = "密码已超过90天未修改，请设置新密码。"
    return render(request, "accounts/password_change.html", {"form": form, "reason": reason})


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(request.user.notifications.all(), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(request.user.notifications, pk=pk)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return redirect(notice.url or "accounts:notifications")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit reader's read-only view of the security audit log."""
    require_audit_reader(request.user)
    form = AuditLogFilterForm(request.GET)
    rows = form.filter(AuditLog.objects.all()) if form.is_valid() else AuditLog.objects.none()
    page = Paginator(rows.order_by("-at", "-id"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit_log.html",
        {"form": form, "page": page, "querystring": query.urlencode()},
    )
