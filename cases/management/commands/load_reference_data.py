from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import Unit

FIXTURES = ["fixtures/org_units.json", "fixtures/materials.json"]


class Command(BaseCommand):
    help = "载入参考数据：县民政局、核对中心和十个苏木镇/农场公司，以及三类救助的申报材料清单；重复执行不产生变化。"

    def handle(self, *args, **options) -> None:
        for fixture in FIXTURES:
            call_command("loaddata", fixture, verbosity=0)
        units = Unit.objects.approval_units().count()
        self.stdout.write(f"参考数据已载入：审核确认单位{units}个。")
