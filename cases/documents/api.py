"""Read-only API for a case's issued documents and archive completeness.

An issued document is never changed: PUT, PATCH and DELETE answer 409 and are audited.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import record
from accounts.models import AuditLog
from cases.models import Document
from cases.permissions import case_for_user
from dengkou_aid.errors import DomainError, Immutable

from . import archive
from .services import issue_document


class DocumentSerializer(serializers.ModelSerializer):
    doc_type_label = serializers.CharField(source="get_doc_type_display")
    generated_by = serializers.CharField(source="generated_by.full_name")
    replaces = serializers.CharField(source="replaces.number", allow_null=True, default=None)
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = (
            "id",
            "case",
            "doc_type",
            "doc_type_label",
            "number",
            "generated_at",
            "generated_by",
            "sha256",
            "replaces",
            "reason",
            "file_url",
        )

    def get_file_url(self, document: Document) -> str:
        return f"/files/document/{document.pk}/"


class IssueInput(serializers.Serializer):
    doc_type = serializers.CharField()
    replaces = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CaseDocumentsView(APIView):
    """The documents of one case; POST issues one (refused, with the reason, in the wrong state)."""

    @extend_schema(responses=DocumentSerializer(many=True))
    def get(self, request, pk: int):
        case = case_for_user(request.user, pk, request=request._request)
        documents = case.documents.select_related("generated_by", "replaces")
        return Response(DocumentSerializer(documents, many=True).data)

    @extend_schema(request=IssueInput, responses={201: DocumentSerializer})
    def post(self, request, pk: int):
        case = case_for_user(request.user, pk, request=request._request)
        data = IssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        replaces = None
        if data.validated_data.get("replaces"):
            replaces = case.documents.filter(pk=data.validated_data["replaces"]).first()
            if replaces is None:
                raise DomainError("被替代的文书不存在。", field="replaces")
        document = issue_document(
            case=case,
            doc_type=data.validated_data["doc_type"],
            actor=request.user,
            replaces=replaces,
            reason=data.validated_data["reason"],
        )
        return Response(DocumentSerializer(document).data, status=201)


class DocumentDetailView(generics.RetrieveAPIView):
    serializer_class = DocumentSerializer

    def get_object(self) -> Document:
        document = generics.get_object_or_404(Document, pk=self.kwargs["pk"])
        if document.case_id is None:
            raise Http404("未找到该记录。")
        case_for_user(self.request.user, document.case_id, request=self.request._request)
        return document

    def _refuse(self, request, *args, **kwargs):
        document = self.get_object()
        message = f"文书{document.number}已出具，不可修改或删除；如有错误请重新出具新文号的文书。"
        record(
            AuditLog.Action.PROTECTED_WRITE, request=request._request, obj=document, detail=message
        )
        raise Immutable(message)

    put = patch = delete = _refuse


class ChecklistRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    group = serializers.CharField()
    present = serializers.BooleanField()


class CompletenessSerializer(serializers.Serializer):
    items = ChecklistRowSerializer(many=True)
    missing = serializers.ListField(child=serializers.CharField())


class CompletenessView(APIView):
    """The archive checklist of a case: what is present and what is missing."""

    @extend_schema(responses=CompletenessSerializer)
    def get(self, request, pk: int):
        case = case_for_user(request.user, pk, request=request._request)
        rows = archive.completeness(case)
        return Response(
            {
                "items": [{"label": r.label, "group": r.group, "present": r.present} for r in rows],
                "missing": [r.label for r in rows if not r.present],
            }
        )
