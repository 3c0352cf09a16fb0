"""The case API for tablets and other systems: households, members, cases, materials,
transitions and the event log. Every write goes through `cases.services`, like the pages.

Clients may send `version` (from the case they last read) with any transition; if someone
changed the case meanwhile the answer is 409 and nothing is written.
"""

from __future__ import annotations

import re

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import not_found, scope_for
from accounts.models import Unit, Village
from dengkou_aid.errors import DomainError

from . import assessment, selectors, services
from .deadlines.calendar import current_calendar
from .models import (
    ApplicantConsent,
    Area,
    Case,
    CaseEvent,
    CaseFile,
    FileCategory,
    Household,
    IncomeKind,
    Kind,
    MaterialRequirement,
    Opinion,
    Outcome,
    Person,
    Relation,
    State,
    WorkAbility,
)
from .permissions import case_for_user

# --- output ------------------------------------------------------------------------------


class MemberSerializer(serializers.ModelSerializer):
    """A household member with the ID number masked (1502**********1234)."""

    id_number = serializers.CharField(source="masked_id", read_only=True)
    relation_label = serializers.CharField(source="get_relation_display", read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "household",
            "name",
            "id_number",
            "sex",
            "relation",
            "relation_label",
            "work_ability",
            "disability_grade",
            "income_irregular",
            "left_on",
        ]


class HouseholdSerializer(serializers.ModelSerializer):
    village_name = serializers.CharField(source="village.name", read_only=True)
    members = MemberSerializer(many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["id", "unit", "village", "village_name", "area", "address", "members"]


class CaseListSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    applicant_name = serializers.CharField(source="applicant.name", read_only=True)
    workdays_left = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "kind",
            "kind_label",
            "area",
            "state",
            "state_label",
            "unit",
            "village",
            "village_name",
            "applicant_name",
            "entrusted",
            "submitted_at",
            "accepted_on",
            "due_date",
            "deadline_provisional",
            "extended",
            "workdays_left",
            "outcome",
            "monthly_amount",
            "version",
        ]

    def get_workdays_left(self, case: Case) -> int | None:
        calendar = self.context.get("calendar")
        if calendar is None:
            calendar = self.context["calendar"] = current_calendar()
        return selectors.workdays_left(case, calendar=calendar)


class SignatureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    step = serializers.CharField()
    signer_name = serializers.CharField()
    role = serializers.CharField()
    signed_at = serializers.DateTimeField()
    opinion = serializers.CharField()
    text = serializers.CharField()
    content_hash = serializers.CharField()
    void = serializers.SerializerMethodField()

    def get_void(self, signature) -> str | None:
        return signature.void.reason if signature.is_void else None


class ObjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    received_on = serializers.DateField()
    content = serializers.CharField()
    substantiated = serializers.BooleanField(allow_null=True)
    resolution = serializers.CharField()


class PublicitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    location = serializers.CharField()
    objections = ObjectionSerializer(many=True)


class AssessmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    basis_date = serializers.DateField()
    household_size = serializers.IntegerField()
    counted_monthly_income = serializers.DecimalField(max_digits=12, decimal_places=2)
    per_capita_income = serializers.DecimalField(max_digits=12, decimal_places=4)
    standard_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    care_tier = serializers.CharField()
    eligible = serializers.BooleanField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    working = serializers.JSONField()


class FileSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = CaseFile
        fields = [
            "id",
            "category",
            "requirement",
            "original_name",
            "mime",
            "size",
            "sha256",
            "uploaded_at",
            "file_url",
        ]

    def get_file_url(self, case_file: CaseFile) -> str:
        # The one download door (dengkou_aid/files.py) checks the case and audits the read.
        return f"/files/material/{case_file.pk}/"


class CaseDetailSerializer(CaseListSerializer):
    household = HouseholdSerializer(read_only=True)
    assessment = serializers.SerializerMethodField()
    signatures = SignatureSerializer(many=True, read_only=True)
    publicities = PublicitySerializer(many=True, read_only=True)
    files = FileSerializer(many=True, read_only=True)
    available_transitions = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "household",
            "entrusted_reason",
            "agency",
            "decided_on",
            "decided_on_time",
            "care_tier",
            "refusal_reason",
            "rejection_reason",
            "withdrawal_reason",
            "extension_reason",
            "termination_reason",
            "assessment",
            "signatures",
            "publicities",
            "files",
            "available_transitions",
        ]

    @extend_schema_field(AssessmentSerializer(allow_null=True))
    def get_assessment(self, case: Case):
        assessments = list(case.assessments.all())
        return AssessmentSerializer(assessments[-1]).data if assessments else None

    def get_available_transitions(self, case: Case) -> list[str]:
        user = self.context["request"].user
        return [step.name for step in selectors.available_steps(user, case)]


class EventSerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.full_name", default="", read_only=True)
    actor_unit_name = serializers.CharField(source="actor_unit.name", default="", read_only=True)

    class Meta:
        model = CaseEvent
        fields = [
            "seq",
            "at",
            "action",
            "label",
            "from_state",
            "to_state",
            "actor_name",
            "actor_role",
            "actor_unit_name",
            "note",
            "data",
        ]


# --- input -------------------------------------------------------------------------------


class IncomeInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IncomeKind.choices, label="收入类型")
    source = serializers.CharField(max_length=100, label="收入来源")
    monthly_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, label="月均金额（元）"
    )
    period_start = serializers.DateField(required=False, allow_null=True, label="起始日期")
    period_end = serializers.DateField(required=False, allow_null=True, label="截止日期")
    months_received = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=12, label="实际领取月数"
    )
    exempt = serializers.BooleanField(default=False, label="不计入家庭收入")
    exempt_reason = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", label="不计入理由"
    )


class MemberInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, label="姓名")
    id_number = serializers.CharField(max_length=18, label="公民身份号码")
    relation = serializers.ChoiceField(
        choices=Relation.choices, default=Relation.HEAD, label="与申请人关系"
    )
    work_ability = serializers.ChoiceField(
        choices=WorkAbility.choices, default=WorkAbility.ABLE, label="劳动能力"
    )
    disability_grade = serializers.IntegerField(
        min_value=0, max_value=4, default=0, label="残疾等级"
    )
    illness = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", label="患病情况"
    )
    income_irregular = serializers.BooleanField(default=False, label="收入不固定")
    phone = serializers.RegexField(
        r"^[0-9+\-\s]{7,20}$",
        required=False,
        allow_blank=True,
        default="",
        label="联系电话",
        error_messages={"invalid": "联系电话格式不正确，请填写7到20位数字。"},
    )
    incomes = IncomeInputSerializer(many=True, required=False, default=list, label="收入")


class ApplicationSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, label="救助类别")
    village = serializers.PrimaryKeyRelatedField(
        queryset=Village.objects.all(), label="嘎查村/社区"
    )
    area = serializers.ChoiceField(choices=Area.choices, label="城乡")
    address = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", label="住址"
    )
    entrusted_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", label="委托申请原因"
    )
    members = MemberInputSerializer(many=True, allow_empty=False, label="家庭成员（首位为申请人）")


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=0, max_value=2**31 - 1, help_text="客户端读到的案件版本号"
    )


def _text(label: str, required: bool = True, max_length: int = 1000):
    return serializers.CharField(
        label=label,
        required=required,
        allow_blank=not required,
        default=serializers.empty if required else "",
        max_length=max_length,
    )


class AcceptInput(VersionSerializer):
    on = serializers.DateField(required=False, label="受理日期")


class ReasonInput(VersionSerializer):
    reason = _text("理由", max_length=300)


class ConsentInput(VersionSerializer):
    method = serializers.ChoiceField(choices=ApplicantConsent.Method.choices, label="签署方式")
    signed_on = serializers.DateField(label="签署日期")
    signers = _text("签署人", max_length=300)


class NoteInput(VersionSerializer):
    note = _text("说明", required=False)


class FindingSerializer(serializers.Serializer):
    agency = serializers.CharField(max_length=100, label="部门")
    found = serializers.BooleanField(
        required=False, allow_null=True, default=None, label="是否发现记录"
    )
    result = serializers.CharField(
        max_length=500, label="核对结果", required=False, allow_blank=True, default=""
    )


class VerificationReportInput(VersionSerializer):
    findings = FindingSerializer(many=True, allow_empty=False)
    summary = _text("核对结论")
    disqualifying = serializers.BooleanField(default=False)


class AgencyInput(VersionSerializer):
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), allow_null=True, label="第三方机构"
    )


class InvestigatorSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    kind = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class HomeVisitInput(VersionSerializer):
    visited_on = serializers.DateField(label="调查日期")
    investigators = InvestigatorSerializer(many=True, label="调查人员")
    findings = _text("调查情况")
    living_conditions = _text("居住及生活状况", required=False)


class AppraisalInput(VersionSerializer):
    held_on = serializers.DateField(label="评议日期")
    attendees = serializers.IntegerField(min_value=1, max_value=10000, label="参加人数")
    minutes = _text("会议记录", max_length=10000)
    result = _text("评议结果", max_length=200)


class AssessInput(VersionSerializer):
    basis_date = serializers.DateField(required=False, label="核算基准日")
    care_unmet = serializers.IntegerField(
        required=False, min_value=0, max_value=6, label="生活自理能力六项指标中未达到的项数"
    )
    care_indicators = serializers.ListField(
        child=serializers.ChoiceField(choices=assessment.DAILY_LIVING_CHOICES),
        required=False,
        max_length=6,
        label="生活自理能力未达到的指标",
    )
    period_months = serializers.ChoiceField(
        choices=[(6, "6个月"), (12, "12个月")], required=False, label="收入核算期"
    )
    period_reason = _text("不按县定核算期的理由", required=False, max_length=300)


class PublishInput(VersionSerializer):
    starts_on = serializers.DateField(label="公示开始日期")
    location = _text("张贴地点", max_length=200)


class ObjectionInput(VersionSerializer):
    received_on = serializers.DateField(label="收到日期")
    content = _text("异议内容")
    raised_by = _text("提出人", required=False, max_length=50)


class ResolveObjectionInput(VersionSerializer):
    objection_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    substantiated = serializers.BooleanField(label="异议是否成立")
    resolution = _text("核实结论")


def _otp_token():
    return serializers.CharField(
        label="动态口令",
        required=False,
        allow_blank=True,
        default="",
        max_length=12,
        help_text="领导及县级人员签字时重新输入的手机令牌6位动态口令",
    )


class ProposeInput(VersionSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices, label="审核意见")
    text = _text("意见内容", required=False)
    otp_token = _otp_token()


class OpinionInput(VersionSerializer):
    opinion = serializers.ChoiceField(choices=Opinion.choices, label="意见")
    text = _text("意见内容", required=False)
    otp_token = _otp_token()


class ConfirmInput(VersionSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices, label="审核确认结果")
    reason = _text("不予保障理由", required=False)
    text = _text("意见内容", required=False)
    otp_token = _otp_token()


class SignedReasonInput(ReasonInput):
    otp_token = _otp_token()


class MaterialInput(serializers.Serializer):
    file = serializers.FileField(label="文件（PDF/JPG/PNG）")
    requirement = serializers.PrimaryKeyRelatedField(
        queryset=MaterialRequirement.objects.all(), required=False, allow_null=True
    )
    category = serializers.ChoiceField(choices=FileCategory.choices, default=FileCategory.MATERIAL)
    version = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)


# name -> (input serializer, service, how the validated data maps to the service's arguments)
TRANSITIONS = {
    "accept": (AcceptInput, services.accept),
    "refuse": (ReasonInput, services.refuse),
    "withdraw": (ReasonInput, services.withdraw),
    "record_consent": (ConsentInput, services.record_consent),
    "request_verification": (NoteInput, services.request_verification),
    "record_verification_report": (VerificationReportInput, services.record_verification_report),
    "assign_agency": (AgencyInput, services.assign_agency),
    "record_home_visit": (HomeVisitInput, services.record_home_visit),
    "record_appraisal": (AppraisalInput, services.record_appraisal),
    "assess": (AssessInput, services.assess),
    "publish": (PublishInput, services.publish),
    "record_objection": (ObjectionInput, services.record_objection),
    "resolve_objection": (ResolveObjectionInput, services.resolve_objection),
    "propose": (ProposeInput, services.propose),
    "sign_opinion": (OpinionInput, services.sign_opinion),
    "confirm": (ConfirmInput, services.confirm),
    "issue_decision": (VersionSerializer, services.issue_decision),
    "extend": (SignedReasonInput, services.extend),
    "terminate": (SignedReasonInput, services.terminate),
}


# --- views -------------------------------------------------------------------------------


def validate_input(serializer: serializers.Serializer) -> dict:
    """Validate input; refuse with the first bad field's path and Chinese reason (400)."""
    if serializer.is_valid():
        return serializer.validated_data
    field, message = _first_error(serializer.errors)
    error = DomainError(message, field=field or None)
    raise error


def field_label(serializer: serializers.Serializer, path: str) -> str:
    """A field path such as `members[1].id_number` in the form's words: 第2位家庭成员的公民身份号码."""
    segments: list[str] = []
    fields = serializer.fields
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        if index:
            if segments:
                unit = "位" if segments[-1] == "家庭成员" else "条"
                segments[-1] = f"第{int(index) + 1}{unit}{segments[-1]}"
            continue
        field = fields.get(name) if fields is not None else None
        if field is None:
            return ""
        segments.append("家庭成员" if name == "members" else str(field.label or ""))
        fields = getattr(getattr(field, "child", field), "fields", None)
    return "的".join(segments)


def _first_error(errors, path: str = "") -> tuple[str, str]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            if value:
                if key == "non_field_errors":
                    return _first_error(value, path)
                if isinstance(key, int) or str(key).isdigit():
                    return _first_error(value, f"{path}[{key}]")
                return _first_error(value, f"{path}.{key}" if path else str(key))
    if isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list) and value:
                nested_path = f"{path}[{index}]" if isinstance(value, dict) else path
                return _first_error(value, nested_path)
            if value:
                return path, str(value)
    return path, str(errors)


def _detail(request, case_id: int) -> Response:
    case = selectors.case_detail(request.user).get(pk=case_id)
    return Response(CaseDetailSerializer(case, context={"request": request}).data)


def _households(user):
    members = Prefetch("members", queryset=Person.objects.order_by("id"))
    return (
        scope_for(user)
        .filter(Household.objects.all())
        .select_related("village")
        .prefetch_related(members)
        .order_by("-id")
    )


class HouseholdListView(generics.ListAPIView):
    """Households of the user's unit or village, members' ID numbers masked."""

    serializer_class = HouseholdSerializer

    def get_queryset(self):
        return _households(self.request.user)


class HouseholdDetailView(generics.RetrieveAPIView):
    serializer_class = HouseholdSerializer

    def get_queryset(self):
        return _households(self.request.user)


class MemberListView(generics.ListAPIView):
    """Members of one household, ID numbers masked."""

    serializer_class = MemberSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Person.objects.none()
        household = _households(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if household is None:
            raise not_found(
                self.request._request, self.request.user, "household", self.kwargs["pk"]
            )
        return Person.objects.filter(household=household).order_by("id")


CASE_FILTERS = [
    OpenApiParameter("kind", enum=Kind.values, required=False),
    OpenApiParameter("state", enum=State.values, required=False),
    OpenApiParameter("village", int, required=False),
    OpenApiParameter("q", str, required=False, description="姓名、案件编号或完整身份证号"),
    OpenApiParameter("days_left", int, required=False, description="剩余工作日不超过"),
    OpenApiParameter("order", enum=list(selectors.ORDERINGS), required=False),
]


class CaseListView(generics.ListAPIView):
    """The user's cases, filtered; a POST files a new application."""

    serializer_class = CaseListSerializer
    filter_backends: list = []

    def get_queryset(self):
        params = validate_input(CaseQuery(data=self.request.query_params))
        return selectors.search_cases(self.request.user, **params)

    @extend_schema(parameters=CASE_FILTERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ApplicationSerializer, responses={201: CaseDetailSerializer})
    def post(self, request):
        data = validate_input(ApplicationSerializer(data=request.data))
        case = services.file_application(actor=request.user, **data)
        response = _detail(request, case.pk)
        response.status_code = status.HTTP_201_CREATED
        return response


class CaseQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    state = serializers.ChoiceField(choices=State.choices, required=False)
    village = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    q = serializers.CharField(required=False, max_length=50, allow_blank=True)
    days_left = serializers.IntegerField(required=False, min_value=0, max_value=200)
    order = serializers.ChoiceField(choices=list(selectors.ORDERINGS), required=False)


class CaseDetailView(APIView):
    """One case: household (ID numbers masked), assessment with working, signatures, files."""

    @extend_schema(responses=CaseDetailSerializer)
    def get(self, request, pk: int):
        case_for_user(request.user, pk, request=request._request)
        return _detail(request, pk)


class CaseEventsView(generics.ListAPIView):
    """The case's timeline, oldest first."""

    serializer_class = EventSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CaseEvent.objects.none()
        case = case_for_user(self.request.user, self.kwargs["pk"], request=self.request._request)
        return selectors.case_events(case)


class MaterialsView(APIView):
    """List a case's files, or upload one (type checked by content, size limited)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=FileSerializer(many=True))
    def get(self, request, pk: int):
        case = case_for_user(request.user, pk, request=request._request)
        return Response(FileSerializer(case.files.all(), many=True).data)

    @extend_schema(request=MaterialInput, responses={201: FileSerializer})
    def post(self, request, pk: int):
        case = case_for_user(request.user, pk, request=request._request)
        data = validate_input(MaterialInput(data=request.data))
        stored = services.upload_material(actor=request.user, case=case, **data)
        return Response(FileSerializer(stored).data, status=status.HTTP_201_CREATED)


class TransitionView(APIView):
    """Take one step of the workflow; the service checks role, unit, state and preconditions."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(TRANSITIONS)
            )
        ],
        request=PolymorphicProxySerializer(
            component_name="TransitionInput",
            serializers=list({s for s, _ in TRANSITIONS.values()}),
            resource_type_field_name=None,
        ),
        responses={200: CaseDetailSerializer},
    )
    def post(self, request, pk: int, name: str):
        if name not in TRANSITIONS:
            raise Http404
        input_class, service = TRANSITIONS[name]
        case = case_for_user(request.user, pk, request=request._request)
        data = validate_input(input_class(data=request.data))
        service(actor=request.user, case=case, **data)
        return _detail(request, pk)
