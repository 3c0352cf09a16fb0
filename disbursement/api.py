"""The disbursement API: one class per operation, each calling one service."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from cases.permissions import case_for_user
from dengkou_aid.errors import Immutable, NotAllowed

from . import selectors, services
from .models import AccountKind, ChangeSource, PaymentRoster


class RosterOut(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name")
    state_label = serializers.CharField(source="get_state_display")
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = PaymentRoster
        fields = [
            "id", "unit", "month", "kind", "kind_label", "reason", "state", "state_label",
            "round", "line_count", "total_amount", "generated_at", "submitted_at", "returned_reason",
        ]  # fmt: skip


class RosterDetailOut(RosterOut):
    subtotals = serializers.SerializerMethodField()

    class Meta(RosterOut.Meta):
        fields = [*RosterOut.Meta.fields, "subtotals"]

    def get_subtotals(self, roster) -> list[dict]:
        return [
            {
                "category": s["category"],
                "label": s["label"],
                "count": s["count"],
                "amount": str(s["amount"]),
            }
            for s in selectors.subtotals(roster)
        ]


class MonthIn(serializers.Serializer):
    month = serializers.DateField(label="发放月份（当月1日）")


class SupplementaryIn(MonthIn):
    reason = serializers.CharField(label="补发/更正原因", max_length=300)


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(label="原因", max_length=300)


def _unit_handler(user) -> None:
    if not (user.unit_id and user.unit.is_approval_unit and user.has_role(Role.HANDLER)):
        raise NotAllowed("此操作须由本单位经办人办理。")


class RosterListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RosterOut(many=True))
    def get(self, request):
        rosters = selectors.rosters_visible_to(request.user).select_related("unit")
        if request.query_params.get("month"):
            rosters = rosters.filter(month=request.query_params["month"])
        return Response(RosterOut(rosters[:500], many=True).data)


class RosterDetailApi(APIView):
    """Read a roster; a roster is never edited or deleted through the API."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RosterDetailOut)
    def get(self, request, roster_id: int):
        roster = selectors.roster_for_user(request.user, roster_id, request=request._request)
        return Response(RosterDetailOut(roster).data)

    def _refuse(self, request, roster_id: int):
        roster = selectors.roster_for_user(request.user, roster_id, request=request._request)
        if roster.is_frozen:
            raise Immutable("已报送的发放清册不可修改或删除；如需更正请编制补发清册。")
        raise Immutable("清册内容由系统按在保待遇生成，不能直接修改；请调整待遇后重新生成。")

    @extend_schema(request=None, responses={409: None})
    def patch(self, request, roster_id: int):
        self._refuse(request, roster_id)

    @extend_schema(request=None, responses={409: None})
    def put(self, request, roster_id: int):
        self._refuse(request, roster_id)

    @extend_schema(request=None, responses={409: None})
    def delete(self, request, roster_id: int):
        self._refuse(request, roster_id)


class RosterGenerateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=MonthIn, responses=RosterDetailOut)
    def post(self, request):
        data = MonthIn(data=request.data)
        data.is_valid(raise_exception=True)
        _unit_handler(request.user)
        roster = services.generate_roster(
            unit=request.user.unit, month=data.validated_data["month"], actor=request.user
        )
        return Response(RosterDetailOut(roster).data, status=status.HTTP_201_CREATED)


class RosterSupplementaryApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=SupplementaryIn, responses=RosterDetailOut)
    def post(self, request):
        data = SupplementaryIn(data=request.data)
        data.is_valid(raise_exception=True)
        _unit_handler(request.user)
        roster = services.generate_supplementary_roster(
            unit=request.user.unit,
            month=data.validated_data["month"],
            reason=data.validated_data["reason"],
            actor=request.user,
        )
        return Response(RosterDetailOut(roster).data, status=status.HTTP_201_CREATED)


class RosterSignIn(serializers.Serializer):
    otp_token = serializers.CharField(
        label="动态口令", required=False, allow_blank=True, help_text="领导签字时重新输入的动态口令"
    )


class RosterSignApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RosterSignIn, responses=RosterOut)
    def post(self, request, roster_id: int):
        roster = selectors.roster_for_user(request.user, roster_id, request=request._request)
        otp_token = str(request.data.get("otp_token", ""))[:12]
        services.sign_roster(roster=roster, actor=request.user, otp_token=otp_token)
        roster.refresh_from_db()
        return Response(RosterOut(roster).data)


class RosterSubmitApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=RosterOut)
    def post(self, request, roster_id: int):
        roster = selectors.roster_for_user(request.user, roster_id, request=request._request)
        services.submit_roster(roster=roster, actor=request.user)
        roster.refresh_from_db()
        return Response(RosterOut(roster).data)


class RosterReturnApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReasonIn, responses=RosterOut)
    def post(self, request, roster_id: int):
        roster = selectors.roster_for_user(request.user, roster_id, request=request._request)
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_roster(
            roster=roster, reason=data.validated_data["reason"], actor=request.user
        )
        roster.refresh_from_db()
        return Response(RosterOut(roster).data)


class RosterSupplementaryRegenerateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=RosterDetailOut)
    def post(self, request, roster_id: int):
        roster = selectors.roster_for_user(request.user, roster_id, request=request._request)
        roster = services.regenerate_supplementary_roster(roster=roster, actor=request.user)
        return Response(RosterDetailOut(roster).data)


class RosterDiscardApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReasonIn, responses=RosterOut)
    def post(self, request, roster_id: int):
        roster = selectors.roster_for_user(request.user, roster_id, request=request._request)
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        roster = services.discard_supplementary_roster(
            roster=roster, reason=data.validated_data["reason"], actor=request.user
        )
        return Response(RosterOut(roster).data)


class EntitlementIn(serializers.Serializer):
    case = serializers.IntegerField(label="案件")
    account_kind = serializers.ChoiceField(label="账户类型", choices=AccountKind.choices)
    account_number = serializers.CharField(label="账号", max_length=40)
    bank_name = serializers.CharField(label="开户银行", max_length=100)
    holder_name = serializers.CharField(label="账户户名", max_length=50)


class EntitlementOut(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    category = serializers.CharField()
    monthly_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    start_month = serializers.DateField()
    end_month = serializers.DateField(allow_null=True)
    account_kind = serializers.CharField()
    account = serializers.CharField(source="account_masked")
    bank_name = serializers.CharField()
    holder_name = serializers.CharField()


class EntitlementCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=EntitlementIn, responses=EntitlementOut)
    def post(self, request):
        data = EntitlementIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        case = case_for_user(request.user, values.pop("case"), request=request._request)
        _unit_handler(request.user)
        entitlement = services.create_entitlement(case=case, actor=request.user, **values)
        return Response(EntitlementOut(entitlement).data, status=status.HTTP_201_CREATED)


class AdjustIn(serializers.Serializer):
    effective_month = serializers.DateField(label="生效月份（当月1日）")
    new_amount = serializers.DecimalField(
        label="新金额", max_digits=12, decimal_places=2, required=False
    )
    reason = serializers.CharField(label="原因", max_length=300)
    source = serializers.ChoiceField(label="依据", choices=ChangeSource.choices)
    stop = serializers.BooleanField(label="停发", default=False)


class EntitlementAdjustApi(APIView):
    """Increase, decrease or stop an entitlement from a month on."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=AdjustIn, responses=EntitlementOut)
    def post(self, request, entitlement_id: int):
        entitlement = selectors.entitlement_for_user(
            request.user, entitlement_id, request=request._request
        )
        data = AdjustIn(data=request.data)
        data.is_valid(raise_exception=True)
        _unit_handler(request.user)
        values = dict(data.validated_data)
        if values.pop("stop"):
            values.pop("new_amount", None)
            services.stop_entitlement(entitlement=entitlement, actor=request.user, **values)
        else:
            if values.get("new_amount") is None:
                raise serializers.ValidationError({"new_amount": ["请填写新金额。"]})
            services.adjust_entitlement(entitlement=entitlement, actor=request.user, **values)
        entitlement.refresh_from_db()
        return Response(EntitlementOut(entitlement).data)


class FundRequestApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=MonthIn, responses=None)
    def post(self, request):
        data = MonthIn(data=request.data)
        data.is_valid(raise_exception=True)
        fund_request = services.create_fund_request(
            month=data.validated_data["month"], actor=request.user
        )
        return Response(
            {
                "id": fund_request.pk,
                "month": fund_request.month,
                "total_amount": str(fund_request.total_amount),
                "line_count": fund_request.line_count,
                "totals": fund_request.totals,
            },
            status=status.HTTP_201_CREATED,
        )
