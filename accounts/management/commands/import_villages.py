from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.services import import_villages, parse_village_csv


class Command(BaseCommand):
    help = "从国家统计用区划代码CSV（12位代码,名称,城乡分类代码[,并入代码]）导入嘎查村和社区；重复导入不产生变化。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("csv_path")

    def handle(self, *args, csv_path: str, **options) -> None:
        path = Path(csv_path)
        if not path.exists():
            raise CommandError(f"文件不存在：{path}")
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise CommandError("无法识别文件编码，请使用UTF-8或GBK编码的CSV。")
        rows, errors = parse_village_csv(text)
        report = import_villages(rows, source=path.name)
        report.errors = sorted(errors + report.errors)
        for line, reason in report.errors:
            self.stderr.write(f"第{line}行：{reason}")
        self.stdout.write(report.summary())
