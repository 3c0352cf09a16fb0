"""The benchmark command runs end to end at a tiny size."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_bench_disbursement_runs_and_matches_the_reference():
    out = StringIO()
    call_command("bench_disbursement", beneficiaries=300, json=True, skip_export=True, stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["roster_lines"] == figures["reference_lines"] > 0
    assert figures["reference_rows_differing"] == 0
    assert figures["county_reconciles"] is True
    assert figures["queries_per_unit"] <= 13
