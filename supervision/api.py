"""The supervision API: the dashboard figures, findings, and the tablet's spot-check record."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import not_found
from cases.models import Kind

from . import selectors, services
from .models import CheckItem, Finding, SpotCheckSample


class DashboardIn(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    unit = serializers.IntegerField(required=False)
    kind = serializers.CharField(required=False, help_text="dibao / marginal / tekun")
    month = serializers.DateField(
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text="the month of the payment figures (YYYY-MM), default this month",
    )

    def validate_kind(self, value: str) -> str:
        if value not in Kind.values:
            raise serializers.ValidationError("救助类别无效。")
        return value


class SectionOut(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField())
    chart = serializers.DictField(allow_null=True)


class DashboardApi(APIView):
    """Every dashboard section (columns, rows, chart) for what the user may see."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[DashboardIn], responses=SectionOut(many=True))
    def get(self, request):
        scope = selectors.dashboard_scope_for(request.user)
        if scope is None:
            raise not_found(request._request, request.user, "dashboard", "")
        data = DashboardIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        today = timezone.localdate()
        filters = selectors.Filters(
            start=data.validated_data.get("start", today.replace(month=1, day=1)),
            end=data.validated_data.get("end", today),
            unit_id=scope.unit_id or data.validated_data.get("unit"),
            kind=data.validated_data.get("kind"),
            month=data.validated_data.get("month", today).replace(day=1),
        )
        sections = selectors.dashboard(scope=scope, filters=filters)
        return Response(
            [
                {
                    "key": s.key,
                    "title": s.title,
                    "columns": s.columns,
                    "rows": s.rows,
                    "chart": s.chart,
                }
                for s in sections
            ]
        )


class FindingOut(serializers.ModelSerializer):
    rule_label = serializers.CharField(source="get_rule_display")
    unit = serializers.CharField(source="unit.name")
    case_number = serializers.CharField(source="case.number", default="")
    state = serializers.CharField(help_text="open / closed")
    rule = serializers.CharField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "rule",
            "rule_label",
            "unit",
            "case_number",
            "state",
            "evidence",
            "first_seen",
            "last_seen",
            "closed_at",
        ]


class FindingListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=FindingOut(many=True))
    def get(self, request):
        findings = selectors.findings_visible_to(request.user)
        state = request.query_params.get("state", Finding.State.OPEN)
        if state in Finding.State.values:
            findings = findings.filter(state=state)
        return Response(FindingOut(findings[:500], many=True).data)


class FindingDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=FindingOut)
    def get(self, request, finding_id: int):
        finding = selectors.findings_visible_to(request.user).filter(pk=finding_id).first()
        if finding is None:
            raise not_found(request._request, request.user, "finding", finding_id)
        return Response(FindingOut(finding).data)


class ItemIn(serializers.Serializer):
    ok = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SpotCheckIn(serializers.Serializer):
    home_visit = ItemIn()
    archive = ItemIn()
    income = ItemIn()
    publicity = ItemIn()


class SpotCheckOut(serializers.Serializer):
    id = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.CharField())


class SpotCheckRecordApi(APIView):
    """A checker's tablet records the checklist of one sampled case (photos through the page)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=SpotCheckIn, responses=SpotCheckOut)
    def post(self, request, sample_id: int):
        sample = SpotCheckSample.objects.filter(pk=sample_id).first()
        if sample is None or not selectors.is_supervisor(request.user):
            raise not_found(request._request, request.user, "sample", sample_id)
        data = SpotCheckIn(data=request.data)
        data.is_valid(raise_exception=True)
        results = {item: dict(data.validated_data[item]) for item in CheckItem.values}
        sample = services.record_spot_check(sample=sample, actor=request.user, results=results)
        return Response({"id": sample.pk, "problems": sample.problems})
