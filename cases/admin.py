"""Admin for the working-day calendar: the holiday table, its CSV import, complete years,
and the county's leave to submit a roster after the 25th."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .deadlines.holidays import (
    HolidayImportError,
    decode_csv,
    import_holidays,
    mark_year_complete,
    recompute_provisional_deadlines,
)
from .models import CalendarYear, RosterWindowLeave, WorkdayOverride


class HolidayImportForm(forms.Form):
    file = forms.FileField(
        label="CSV文件", help_text="三列：日期(YYYY-MM-DD),是否工作日(1上班/0休息),名称"
    )
    source = forms.CharField(label="依据", max_length=200, required=False)
    complete = forms.BooleanField(
        label="文件涉及的年度已完整录入", required=False, help_text="勾选后该年度期限不再暂定"
    )


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name", "source", "created_by", "updated_at")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("name", "source")
    readonly_fields = ("created_by", "created_at", "updated_at")
    change_list_template = "admin/cases/workdayoverride/change_list.html"

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="cases_workdayoverride_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = HolidayImportForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                result = import_holidays(
                    text=decode_csv(form.cleaned_data["file"].read()),
                    actor=request.user,
                    source=form.cleaned_data["source"]
                    or f"CSV导入：{form.cleaned_data['file'].name}",
                    complete_years=form.cleaned_data["complete"],
                )
            except HolidayImportError as error:
                errors = error.errors
            else:
                messages.success(
                    request,
                    f"已导入：新增{result.created}天，更新{result.updated}天；"
                    f"重新计算暂定期限{result.recomputed}件。",
                )
                return HttpResponseRedirect(reverse("admin:cases_workdayoverride_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "导入节假日安排",
            "form": form,
            "errors": errors,
        }
        return TemplateResponse(request, "admin/cases/workdayoverride/import.html", context)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "complete", "note", "updated_by", "updated_at")
    readonly_fields = ("updated_by", "updated_at")
    actions = ("mark_complete",)

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        if obj.complete:
            moved = recompute_provisional_deadlines()
            messages.info(request, f"已重新计算暂定期限{moved}件。")

    @admin.action(description="标记为已完整录入并重新计算暂定期限")
    def mark_complete(self, request, queryset) -> None:
        moved = sum(mark_year_complete(year=y.year, actor=request.user) for y in queryset)
        self.message_user(request, f"已标记{queryset.count()}个年度；重新计算暂定期限{moved}件。")


@admin.register(RosterWindowLeave)
class RosterWindowLeaveAdmin(admin.ModelAdmin):
    list_display = ("unit", "month", "until", "reason", "granted_by", "granted_at")
    list_filter = ("unit",)
    readonly_fields = ("granted_by", "granted_at")

    def save_model(self, request, obj, form, change) -> None:
        obj.granted_by = request.user
        super().save_model(request, obj, form, change)


from .documents import admin as admin_archive  # noqa: E402, F401  (read-only admin for signed records)
