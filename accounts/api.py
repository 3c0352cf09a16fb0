"""API sign-in for tablets: expiring tokens, and the API's error answers."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django_otp import match_token
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from dengkou_aid.errors import DomainError

from .audit import record
from .models import AuditLog


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
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        record(AuditLog.Action.TOKEN_ISSUED, request=django_request, user=user)
        return Response({"token": token.key, "expires_at": token.created + settings.API_TOKEN_TTL})


class RevokeTokenView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


def exception_handler(exc, context):
    """Answer domain errors with their status and Chinese message; audit refusals."""
    request = context.get("request")
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
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
