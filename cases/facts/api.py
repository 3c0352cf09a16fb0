"""The household facts of a case over the API: read the current version and its history, or
correct one fact (the same service as the case page, so the same rules and the same 409)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api import validate_input
from ..models import AssetKind, FactOperation, FactSubject, IncomeKind
from ..permissions import case_for_user
from .selectors import current_facts, describe_change, fact_history
from .services import record_fact_change


class FactMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    masked_id = serializers.CharField(label="公民身份号码（脱敏）")
    relation = serializers.CharField(source="get_relation_display")
    work_ability = serializers.CharField(source="get_work_ability_display")
    disability_grade = serializers.IntegerField()


class FactIncomeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    person = serializers.IntegerField(source="person_id")
    kind = serializers.ChoiceField(choices=IncomeKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    source = serializers.CharField()
    monthly_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    months_received = serializers.IntegerField(allow_null=True)
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    exempt = serializers.BooleanField()
    exempt_reason = serializers.CharField()


class FactAssetSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=AssetKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    description = serializers.CharField()


class FactChangeRowSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()


class FactChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    role = serializers.CharField()
    channel = serializers.CharField()
    title = serializers.CharField()
    reason = serializers.CharField()
    rows = FactChangeRowSerializer(many=True)


class HouseholdFactsSerializer(serializers.Serializer):
    members = FactMemberSerializer(many=True)
    incomes = FactIncomeSerializer(many=True)
    assets = FactAssetSerializer(many=True)
    history = FactChangeSerializer(many=True)


class FactChangeInput(serializers.Serializer):
    subject = serializers.ChoiceField(choices=FactSubject.choices, label="对象")
    operation = serializers.ChoiceField(choices=FactOperation.choices, label="操作")
    target_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1, label="更正的记录"
    )
    values = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=200),
        required=False,
        default=dict,
        label="更正内容",
    )
    reason = serializers.CharField(max_length=1000, label="更正理由")
    version = serializers.IntegerField(
        required=False, min_value=0, max_value=2**31 - 1, help_text="客户端读到的案件版本号"
    )


class HouseholdFactsView(APIView):
    """The case household's current members, incomes and assets, and every correction of them."""

    @extend_schema(responses=HouseholdFactsSerializer)
    def get(self, request, pk: int):
        case = case_for_user(request.user, pk, request=request._request)
        facts = current_facts(case)
        body = {
            "members": facts.members,
            "incomes": facts.incomes,
            "assets": facts.assets,
            "history": fact_history(case),
        }
        return Response(HouseholdFactsSerializer(body).data)

    @extend_schema(request=FactChangeInput, responses={201: FactChangeSerializer})
    def post(self, request, pk: int):
        case = case_for_user(request.user, pk, request=request._request)
        data = validate_input(FactChangeInput(data=request.data))
        change = record_fact_change(case=case, actor=request.user, **data)
        return Response(
            FactChangeSerializer(describe_change(change)).data, status=status.HTTP_201_CREATED
        )
