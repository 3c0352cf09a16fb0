"""API sign-in for tablets: expiring tokens, the password change, and the API's error answers."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django_otp import match_token
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from dengkou_aid.errors import DomainError

from .audit import record
from .authentication import PasswordChangeRequired
from .models import ApiToken, AuditLog
from .services import change_password


class ObtainTokenSerializer(serializers.Serializer):
    username = serializers.CharField(label="用户名")
    password = serializers.CharField(label="密码", style={"input_type": "password"})
    otp_token = serializers.CharField(label="动态口令", required=False, allow_blank=True)


class ObtainTokenView(APIView):
    """Exchange username, password (and a one-time code where required) for a token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        request=ObtainTokenSerializer,
        responses={
            200: inline_serializer(
                "TokenOut",
                {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
            )
        },
    )
    def post(self, request):
        data = ObtainTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            django_request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            return Response(
                {"detail": "该账户因连续5次登录失败已被锁定30分钟，请稍后再试或联系系统管理员。"},
                status=status.HTTP_403_FORBIDDEN,
            )
        if user is None:
            return Response({"detail": "用户名或密码错误。"}, status=status.HTTP_400_BAD_REQUEST)
        if (
            user.needs_two_factor
            and match_token(user, data.validated_data.get("otp_token", "")) is None
        ):
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=django_request,
                reason="otp",
            )
            return Response(
                {"detail": "动态口令缺失或错误。", "field": "otp_token"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if user.is_audit_reader:
            return Response(
                {"detail": "安全审计员只能在网页上查阅审计日志，不使用接口。"},
                status=status.HTTP_403_FORBIDDEN,
            )
        ApiToken.objects.filter(user=user).delete()
        token = ApiToken.objects.create(user=user)
        record(AuditLog.Action.TOKEN_ISSUED, request=django_request, user=user)
        return Response({"token": token.key, "expires_at": token.created + settings.API_TOKEN_TTL})


class RevokeTokenView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        ApiToken.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangePasswordSerializer(serializers.Serializer):
    old_password = serializers.CharField(label="原密码", style={"input_type": "password"})
    new_password = serializers.CharField(label="新密码", style={"input_type": "password"})

    def validate_old_password(self, value: str) -> str:
        if not self.context["user"].check_password(value):
            raise serializers.ValidationError("原密码不正确。")
        return value

    def validate_new_password(self, value: str) -> str:
        try:
            validate_password(value, self.context["user"])
        except ValidationError as weak:
            raise serializers.ValidationError(list(weak.messages)) from None
        return value


class ChangePasswordView(APIView):
    """Change one's own password; every token of the user ends, so sign in again with it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ChangePasswordSerializer,
        responses={200: inline_serializer("PasswordChanged", {"detail": serializers.CharField()})},
    )
    def post(self, request):
        data = ChangePasswordSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        change_password(
            user=request.user,
            new_password=data.validated_data["new_password"],
            request=request._request,
        )
        if request.auth is None:  # a browser session stays signed in, like the page
            update_session_auth_hash(request._request, request.user)
        return Response({"detail": "密码已修改，请使用新密码重新登录。"})


class ApiDocsPermission(BasePermission):
    """The schema and documentation pages: anyone locally, signed-in staff in production."""

    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


def exception_handler(exc, context):
    """Answer domain errors with their status and Chinese message; audit refusals."""
    request = context.get("request")
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PasswordChangeRequired):
        return Response(
            {"detail": str(exc.detail), "code": exc.default_code},
            status=status.HTTP_403_FORBIDDEN,
        )
    if isinstance(exc, Http404 | exceptions.NotFound):
        return Response({"detail": "未找到该记录。"}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied | exceptions.PermissionDenied):
        if request is not None:
            record(
                AuditLog.Action.ACCESS_DENIED,
                request=request._request,
                user=request.user if request.user.is_authenticated else None,
                detail=str(exc)[:200],
            )
        message = (
            str(exc) if str(exc) and "permission" not in str(exc).lower() else "您无权执行此操作。"
        )
        return Response({"detail": message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, exceptions.NotAuthenticated):
        return Response({"detail": "请先登录。"}, status=status.HTTP_401_UNAUTHORIZED)
    return drf_exception_handler(exc, context)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    unit = serializers.CharField(source="unit.name", allow_null=True)
    village = serializers.CharField(source="village.name", allow_null=True)
    roles = serializers.ListField(child=serializers.CharField(), source="role_labels")


class MeView(APIView):
    """Who the token belongs to: name, unit, village and roles."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
