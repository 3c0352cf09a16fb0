"""Benchmark the county dashboard's queries, the nightly system checks and a month's spot-check draw.

PostgreSQL only, on a database of its own. It reuses the disbursement benchmark's data set
(100 units, N households each with one case in payment and its entitlement), then gives each
case the records of a full workflow (verification, home visit, assessment, publicity, three
signatures, one material file), decision dates spread over a year, and about 1% of cases with
each fault the checks look for:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dk_bench_supervision \\
        python manage.py bench_supervision --cases 1000000

The data set is built once (`--build-only` builds it and stops); later runs reuse it, and
`--only dashboard draw` times just those steps. The disbursement benchmark can run on the same
database afterwards (`bench_disbursement --beneficiaries 1000000 --month 2026-01`).
"""

from __future__ import annotations

import json
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.access import Scope
from accounts.models import User
from cases.models import Case, MaterialRequirement, PolicyStandard
from dengkou_aid.lib.dbroles import triggers_suspended

BASE_DAY = date(2025, 1, 1)
STEPS = ("dashboard", "checks", "draw")
FAULTS = {
    "signature_order": 1,  # no opinion signature
    "decided_late": 3,  # due date two days before the decision
    "stage_missing": 5,  # no home visit
    "publicity_short": 7,  # five-day publicity
    "amount_mismatch": 9,  # stored amount 10 yuan too high
    "age_rule": 10,  # a tekun beneficiary aged 40
    "material_missing": 11,  # no file for the required material
}


class Command(BaseCommand):
    help = (
        "Time the supervision dashboard, nightly checks and spot-check draw on N synthetic cases."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument(
            "--only",
            nargs="*",
            choices=STEPS,
            default=list(STEPS),
            help="time only these steps; the data set is built once and reused by later runs",
        )
        parser.add_argument(
            "--build-only", action="store_true", help="build (or complete) the data set and stop"
        )

    def handle(self, *args, **options) -> None:
        n = options["cases"]
        figures: dict = {"cases": n}
        started = time.perf_counter()
        if not Case.objects.filter(number__startswith="BENCH-").exists():
            from disbursement.management.commands.bench_disbursement import build_data_set

            build_data_set(n, date(2026, 1, 1))
            figures["base_build_seconds"] = round(time.perf_counter() - started, 1)
        if not MaterialRequirement.objects.filter(code="bench_id").exists():
            started = time.perf_counter()
            add_workflow_records()
            figures["workflow_build_seconds"] = round(time.perf_counter() - started, 1)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if options["build_only"] else "ANALYZE")
        if options["build_only"]:
            self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=1))
            return
        existing = Case.objects.filter(number__startswith="BENCH-").count()
        if existing != n:
            raise CommandError(f"this database holds {existing} benchmark cases, not {n}")
        steps = {"dashboard": time_dashboard, "checks": time_checks, "draw": time_draw}
        for step in options["only"]:
            figures.update(steps[step](options["repeat"]))
        self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=1))


def _sql(statement: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def add_workflow_records() -> None:
    """Give every benchmark case the records of a complete workflow, with ~1% of each fault."""
    _standards()
    user = User.objects.filter(username="bench_finance").first()
    if user is None:
        raise CommandError("the disbursement benchmark data set is missing its user")
    f = FAULTS
    cases = "SELECT id FROM cases_case WHERE number LIKE 'BENCH-%%'"
    # The cases are already in payment: their decided history is written below the workflow,
    # with the trigger that keeps a decision suspended (the owner, on the benchmark's database).
    with transaction.atomic(), triggers_suspended("cases_case"):
        requirement = MaterialRequirement.objects.create(
            kind="dibao", code="bench_id", name="身份证"
        )
        MaterialRequirement.objects.create(kind="tekun", code="bench_id", name="身份证")
        # Decision dates over a year; accepted 20 days before; due 5 days after (late: 2 before).
        _sql(
            f"""UPDATE cases_case SET imported = false,
                decided_on = %s::date + (id %% 360)::int,
                accepted_on = %s::date + (id %% 360)::int - 20,
                due_date = %s::date + (id %% 360)::int + CASE WHEN id %% 100 = {f["decided_late"]} THEN -2 ELSE 5 END,
                decided_on_time = (id %% 100 <> {f["decided_late"]})
            WHERE id IN ({cases})""",
            [BASE_DAY, BASE_DAY, BASE_DAY],
        )
        # Amounts that the assessment explains: tekun = basic + care; dibao from income below.
        _sql(
            f"""UPDATE cases_case SET monthly_amount =
                (CASE area WHEN 'urban' THEN 1380 ELSE 1020 END)
                + (CASE care_tier WHEN 'full' THEN 1266 WHEN 'partial' THEN 495 ELSE 0 END)
            WHERE kind = 'tekun' AND id IN ({cases})"""
        )
        _sql(
            f"""UPDATE cases_person SET birth_date = '1986-01-01' WHERE id IN (
                SELECT applicant_id FROM cases_case WHERE kind = 'tekun'
                AND id %% 100 = {f["age_rule"]} AND id IN ({cases}))"""
        )
        ts = (
            "(c.accepted_on + {days})::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '10 hours'"
        )
        _sql(
            f"""INSERT INTO cases_verificationrequest (case_id, requested_by_id, requested_at, note)
            SELECT c.id, %s, {ts.format(days=1)}, '' FROM cases_case c WHERE c.id IN ({cases})""",
            [user.pk],
        )
        _sql(
            """INSERT INTO cases_verificationreport (request_id, officer_id, entered_at, findings,
                summary, disqualifying)
            SELECT r.id, %s, r.requested_at + interval '1 day', '[]', '未发现', false
            FROM cases_verificationrequest r JOIN cases_case c ON c.id = r.case_id
            WHERE c.number LIKE 'BENCH-%%'""",
            [user.pk],
        )
        _sql(
            f"""INSERT INTO cases_homevisit (case_id, visited_on, investigators, findings,
                living_conditions, recorded_by_id, recorded_at)
            SELECT c.id, c.accepted_on + 3, '[{{"name": "甲"}}, {{"name": "乙"}}]', '属实', '', %s,
                {ts.format(days=3)}
            FROM cases_case c WHERE c.id IN ({cases}) AND c.id %% 100 <> {f["stage_missing"]}""",
            [user.pk],
        )
        standard = "(SELECT id FROM cases_policystandard s WHERE s.kind = CASE c.kind WHEN 'tekun' THEN 'tekun_basic' ELSE 'dibao' END AND s.area = c.area ORDER BY effective_from DESC LIMIT 1)"
        std_amount = "(CASE WHEN c.kind = 'tekun' THEN (CASE c.area WHEN 'urban' THEN 1380 ELSE 1020 END) ELSE (CASE c.area WHEN 'urban' THEN 840 ELSE 670 END) END)"
        income = f"(CASE WHEN c.kind = 'tekun' THEN 0 ELSE {std_amount} - c.monthly_amount END)"
        _sql(
            f"""INSERT INTO cases_incomeassessment (case_id, basis_date, period_months,
                household_size, total_monthly_income, exempt_monthly_income,
                counted_monthly_income, per_capita_income, standard_id, standard_amount,
                care_tier, care_amount, eligible, amount, working, assessed_by_id, assessed_at)
            SELECT c.id, c.accepted_on, 12, 1, {income}, 0, {income}, {income}, {standard},
                {std_amount}, c.care_tier, 0, true, c.monthly_amount,
                json_build_object('total_period_income', ({income} * 12)::text,
                                  'exempt_period_income', '0'),
                %s, {ts.format(days=4)}
            FROM cases_case c WHERE c.id IN ({cases})""",
            [user.pk],
        )
        _sql(
            f"""UPDATE cases_case SET monthly_amount = monthly_amount + 10
            WHERE id %% 100 = {f["amount_mismatch"]} AND id IN ({cases})"""
        )
        _sql(
            f"""INSERT INTO cases_publicity (case_id, starts_on, ends_on, location, posted_by_id,
                posted_at)
            SELECT c.id, c.accepted_on + 5,
                c.accepted_on + CASE WHEN c.id %% 100 = {f["publicity_short"]} THEN 9 ELSE 11 END,
                '村委会公示栏', %s, {ts.format(days=5)}
            FROM cases_case c WHERE c.id IN ({cases})""",
            [user.pk],
        )
        for step, offset in (("proposal", 3), ("opinion", 2), ("decision", 0)):
            skip = f"AND c.id %% 100 <> {f['signature_order']}" if step == "opinion" else ""
            _sql(
                f"""INSERT INTO cases_signature (case_id, step, signer_id, signer_name, role,
                    unit_id, signed_at, opinion, text, content_hash, content)
                SELECT c.id, %s, %s, '测试', 'x', c.unit_id,
                    (c.decided_on - {offset})::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '10 hours',
                    'agree', '', repeat('0', 64), '{{}}'
                FROM cases_case c WHERE c.id IN ({cases}) {skip}""",
                [step, user.pk],
            )
        _sql(
            f"""INSERT INTO cases_casefile (case_id, category, requirement_id, file, original_name,
                mime, size, sha256, correction_reason, uploaded_by_id, uploaded_at)
            SELECT c.id, 'material', r.id, 'bench.pdf', 'bench.pdf', 'application/pdf', 1,
                repeat('0', 64), '', %s, {ts.format(days=0)}
            FROM cases_case c JOIN cases_materialrequirement r
                ON r.kind = c.kind AND r.code = 'bench_id'
            WHERE c.id IN ({cases}) AND c.id %% 100 <> {f["material_missing"]}""",
            [user.pk],
        )
        del requirement


def _standards() -> None:
    """The demo standards (Inner Mongolia's 2023 averages) the amounts are computed from."""
    values = {
        ("dibao", "urban"): 840,
        ("dibao", "rural"): 670,
        ("tekun_basic", "urban"): 1380,
        ("tekun_basic", "rural"): 1020,
        ("tekun_care_full", "urban"): 1266,
        ("tekun_care_full", "rural"): 1266,
        ("tekun_care_partial", "urban"): 495,
        ("tekun_care_partial", "rural"): 495,
        ("tekun_care_self", "urban"): 0,
        ("tekun_care_self", "rural"): 0,
    }
    for (kind, area), amount in values.items():
        PolicyStandard.objects.get_or_create(
            kind=kind,
            area=area,
            effective_from=date(2023, 1, 1),
            defaults={"amount": amount, "is_demo": True, "note": "演示数值"},
        )


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def time_dashboard(repeat: int) -> dict:
    """The summary's recount (nightly and on demand), then the county's and a unit's page
    queries read from it, each `repeat` times, with the number of queries per page."""
    from supervision import summary
    from supervision.selectors import Filters, dashboard

    filters = Filters(start=date(2025, 1, 1), end=date(2025, 12, 31))
    scope = Scope(everything=True)
    today = date(2025, 6, 15)
    refresh_times = [_timed(lambda: summary.refresh(today)) for _ in range(repeat)]
    unit_id = Case.objects.filter(number__startswith="BENCH-").values_list("unit_id", flat=True)[0]
    out = {"summary_refresh_seconds": [round(t, 2) for t in refresh_times]}
    for label, page_scope in (("county", scope), ("unit", Scope(unit_id=unit_id))):
        times, queries = [], 0
        for _ in range(repeat):
            counter = _QueryCounter()
            with connection.execute_wrapper(counter):
                times.append(
                    _timed(lambda s=page_scope: dashboard(scope=s, filters=filters, today=today))
                )
            queries = counter.count
        out[f"dashboard_{label}_seconds"] = [round(t, 3) for t in times]
        out[f"dashboard_{label}_queries"] = queries
    return out


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def time_checks(repeat: int = 1) -> dict:
    from supervision import checks
    from supervision.services import run_system_checks

    out = {}
    total = 0.0
    for rule in checks.RULES:
        started = time.perf_counter()
        summary = run_system_checks(rules=[rule])
        seconds = time.perf_counter() - started
        total += seconds
        out[f"check_{rule}"] = {"seconds": round(seconds, 1), **summary[rule]}
    out["checks_total_seconds"] = round(total, 1)
    started = time.perf_counter()
    run_system_checks()
    out["checks_rerun_seconds"] = round(time.perf_counter() - started, 1)
    return out


def time_draw(repeat: int = 1) -> dict:
    from supervision.models import SpotCheckDraw
    from supervision.services import draw_spot_check_sample

    start, end = date(2025, 3, 1), date(2025, 3, 31)
    from supervision.models import SpotCheckSample

    SpotCheckSample.objects.filter(draw__period_start=start, draw__period_end=end).delete()
    SpotCheckDraw.objects.filter(
        period_start=start, period_end=end, redraw_of__isnull=False
    ).delete()
    SpotCheckDraw.objects.filter(period_start=start, period_end=end).delete()
    started = time.perf_counter()
    draw = draw_spot_check_sample(period_start=start, period_end=end, actor=None, seed=1)
    seconds = time.perf_counter() - started
    return {
        "draw_seconds": round(seconds, 2),
        "draw_population": draw.parameters["population"],
        "draw_samples": draw.samples.count(),
    }
