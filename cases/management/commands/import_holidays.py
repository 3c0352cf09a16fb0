from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.deadlines.holidays import HolidayImportError, decode_csv, import_holidays


class Command(BaseCommand):
    help = "导入节假日安排CSV（日期,是否工作日,名称）；有任何错误则整份不导入。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="CSV 文件路径")
        parser.add_argument("--source", default="", help="依据，如国务院办公厅通知文号")
        parser.add_argument(
            "--complete", action="store_true", help="同时将文件涉及的年度标记为已完整录入"
        )

    def handle(self, *args, path: str, source: str, complete: bool, **options) -> None:
        try:
            text = decode_csv(Path(path).read_bytes())
            result = import_holidays(
                text=text,
                actor=None,
                source=source or f"CSV导入：{Path(path).name}",
                complete_years=complete,
            )
        except OSError as error:
            raise CommandError(f"无法读取文件：{error}") from None
        except HolidayImportError as error:
            raise CommandError("\n".join(["未导入任何数据：", *error.errors])) from None
        years = "、".join(str(y) for y in result.years)
        self.stdout.write(
            f"已导入{years}年：新增{result.created}天，更新{result.updated}天；"
            f"重新计算暂定期限{result.recomputed}件。"
        )
