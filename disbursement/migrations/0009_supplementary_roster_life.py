"""A supplementary roster's whole life: a draft may be discarded (已作废), kept for the record.

A discarded roster is frozen in PostgreSQL like a submitted one: the triggers of 0008 are
redefined with 'discarded' among the frozen states, so it is never changed, deleted or moved
on, and its lines stay as they were. At most one open (prepared or signed) supplementary draft
per unit and month, so two clicks make one draft.
"""

from importlib import import_module

import django_fsm
from django.conf import settings
from django.db import migrations, models

previous = import_module("disbursement.migrations.0008_immutable_triggers_all")

# disbursement.models.FROZEN_STATES, now with the discarded draft.
FROZEN = "'submitted', 'returned', 'accepted', 'discarded'"
FUNCTIONS = previous.FUNCTIONS.replace(previous.FROZEN, FROZEN)
assert FUNCTIONS.count(FROZEN) == 2


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_audit_reader_role"),
        ("disbursement", "0008_immutable_triggers_all"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, previous.FUNCTIONS),
        migrations.AlterField(
            model_name="paymentroster",
            name="state",
            field=django_fsm.FSMField(
                choices=[
                    ("prepared", "已编制"),
                    ("signed", "已签字"),
                    ("submitted", "已报送"),
                    ("returned", "已退回"),
                    ("accepted", "县局已审核"),
                    ("discarded", "已作废"),
                ],
                default="prepared",
                max_length=50,
                protected=True,
                verbose_name="状态",
            ),
        ),
        migrations.AddConstraint(
            model_name="paymentroster",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("kind", "supplementary"), ("state__in", ("prepared", "signed"))
                ),
                fields=("unit", "month"),
                name="one_open_supplementary_roster_per_unit_month",
            ),
        ),
        migrations.AddConstraint(
            model_name="paymentroster",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("state", "discarded"), _negated=True),
                    ("kind", "supplementary"),
                    _connector="OR",
                ),
                name="only_supplementary_roster_discarded",
            ),
        ),
    ]
