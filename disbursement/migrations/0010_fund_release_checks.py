"""A fund release belongs to a county fund request, names a category and a unique voucher.

Releases already recorded are marked `recorded_before_checks` (adding the column fills it for
them; new rows get False): they keep what they said, a repeated voucher number included, and
the voucher constraint covers only releases recorded from now on. Each is attached to its
month's fund request where exactly one request of that month covers its unit, and given its
category where that request has exactly one category for the unit; otherwise it stays
unattached and is shown as such. Releases are written once (0008's trigger), so the trigger
is switched off for this one update and on again in the same transaction.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q

TABLE = "disbursement_fundrelease"
TRIGGER = f"{TABLE}_immutable"


def attach_existing_releases(apps, schema_editor):
    FundRelease = apps.get_model("disbursement", "FundRelease")
    CountyFundRequest = apps.get_model("disbursement", "CountyFundRequest")
    releases = list(FundRelease.objects.filter(fund_request__isnull=True))
    if not releases:
        return
    requests_by_month = {}
    for request in CountyFundRequest.objects.all():
        requests_by_month.setdefault(request.month, []).append(request)
    schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
    for release in releases:
        covering = [
            request
            for request in requests_by_month.get(release.month, [])
            if any(row.get("unit_id") == release.unit_id for row in request.totals)
        ]
        if len(covering) != 1:
            continue
        request = covering[0]
        categories = {
            row.get("category") for row in request.totals if row.get("unit_id") == release.unit_id
        }
        category = categories.pop() if len(categories) == 1 else ""
        FundRelease.objects.filter(pk=release.pk).update(fund_request=request, category=category)
    # The new foreign key's deferred checks must run before the table can be altered again.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [
        ("disbursement", "0009_supplementary_roster_life"),
    ]

    operations = [
        migrations.AddField(
            model_name="fundrelease",
            name="recorded_before_checks",
            field=models.BooleanField(default=True, verbose_name="检查启用前登记"),
        ),
        migrations.AlterField(
            model_name="fundrelease",
            name="recorded_before_checks",
            field=models.BooleanField(default=False, verbose_name="检查启用前登记"),
        ),
        migrations.AddField(
            model_name="fundrelease",
            name="fund_request",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="releases",
                to="disbursement.countyfundrequest",
                verbose_name="请款汇总",
            ),
        ),
        migrations.AddField(
            model_name="fundrelease",
            name="category",
            field=models.CharField(
                blank=True,
                choices=[
                    ("dibao_urban", "城市低保"),
                    ("dibao_rural", "农村牧区低保"),
                    ("tekun_self_care", "特困供养（生活自理）"),
                    ("tekun_partial", "特困供养（部分丧失自理能力）"),
                    ("tekun_full", "特困供养（完全丧失自理能力）"),
                    ("marginal", "低保边缘家庭"),
                ],
                max_length=20,
                verbose_name="类别",
            ),
        ),
        migrations.AddField(
            model_name="fundrelease",
            name="over_reason",
            field=models.CharField(blank=True, max_length=300, verbose_name="超出请款金额的原因"),
        ),
        migrations.RunPython(attach_existing_releases, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="fundrelease",
            constraint=models.UniqueConstraint(
                condition=Q(recorded_before_checks=False),
                fields=("reference",),
                name="one_release_per_voucher",
                violation_error_message="该凭证号已登记过拨付。",
            ),
        ),
        migrations.AddConstraint(
            model_name="fundrelease",
            constraint=models.CheckConstraint(
                condition=Q(amount__gt=0) | Q(recorded_before_checks=True),
                name="release_amount_positive",
            ),
        ),
    ]
