"""Change reports through the API, for village assistants' tablets (token sign-in).

GET  /api/reviews/households/               households in payment the user may report on
GET  /api/reviews/change-reports/           reports the user may see
POST /api/reviews/change-reports/           file a report
POST /api/reviews/change-reports/<id>/decision/   the unit handler's decision
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import require_staff_role
from cases.models import Person
from dengkou_aid.errors import DomainError
from disbursement.models import ChangeReport, ChangeReportKind

from . import change_reports
from . import services as reviews
from .views import households_visible_to, reports_visible_to


class MemberOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.CharField()
    id_number = serializers.CharField(source="masked_id")
    left_on = serializers.DateField()


class HouseholdOut(serializers.Serializer):
    id = serializers.IntegerField()
    village = serializers.CharField(source="village.name")
    address = serializers.CharField()
    members = MemberOut(many=True)


class ChangeReportOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    state_label = serializers.CharField(source="get_state_display")
    member_name = serializers.CharField(source="member.name", default="")

    class Meta:
        model = ChangeReport
        fields = [
            "id", "household", "member", "member_name", "kind", "kind_label", "details",
            "occurred_on", "reported_on", "state", "state_label", "decision", "review",
        ]  # fmt: skip


class ChangeReportIn(serializers.Serializer):
    household = serializers.IntegerField(label="家庭")
    member = serializers.IntegerField(label="成员", required=False, allow_null=True)
    kind = serializers.ChoiceField(label="变化类型", choices=ChangeReportKind.choices)
    details = serializers.CharField(label="具体情况", max_length=2000)
    occurred_on = serializers.DateField(label="发生日期", required=False, allow_null=True)


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(label="处理方式", choices=["dismiss", "review", "confirm"])
    note = serializers.CharField(
        label="处理意见", required=False, allow_blank=True, max_length=2000
    )


class HouseholdsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=HouseholdOut(many=True))
    def get(self, request):
        require_staff_role(request.user)
        households = (
            households_visible_to(request.user)
            .filter(entitlements__in=reviews.entitlements_in_payment())
            .distinct()
            .select_related("village")
            .prefetch_related("members")
            .order_by("id")[:500]
        )
        return Response(HouseholdOut(households, many=True).data)


class ChangeReportsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ChangeReportOut(many=True))
    def get(self, request):
        require_staff_role(request.user)
        reports = reports_visible_to(request.user).select_related("member")[:200]
        return Response(ChangeReportOut(reports, many=True).data)

    @extend_schema(request=ChangeReportIn, responses={201: ChangeReportOut})
    def post(self, request):
        require_staff_role(request.user)
        data = ChangeReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        household = households_visible_to(request.user).filter(pk=values["household"]).first()
        if household is None:
            raise DomainError("未找到该家庭，或不属于您所在的嘎查村/社区。", field="household")
        member = None
        if values.get("member"):
            member = Person.objects.filter(pk=values["member"], household=household).first()
            if member is None:
                raise DomainError("所选成员不属于该家庭。", field="member")
        report = change_reports.file_change_report(
            actor=request.user,
            household=household,
            kind=values["kind"],
            details=values["details"],
            member=member,
            occurred_on=values.get("occurred_on"),
        )
        return Response(ChangeReportOut(report).data, status=status.HTTP_201_CREATED)


class DecisionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=DecisionIn, responses=ChangeReportOut)
    def post(self, request, pk: int):
        require_staff_role(request.user)
        report = reports_visible_to(request.user).filter(pk=pk).first()
        if report is None:
            return Response({"detail": "未找到该记录。"}, status=status.HTTP_404_NOT_FOUND)
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = change_reports.decide_change_report(
            report=report,
            actor=request.user,
            decision=data.validated_data["decision"],
            note=data.validated_data.get("note", ""),
        )
        return Response(ChangeReportOut(report).data)
