"""Benchmark roster generation, county aggregation and Excel export on a synthetic county.

Run it on a database of its own (it adds 100 approval units and N beneficiaries):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dk_bench \\
        python manage.py bench_disbursement --beneficiaries 100000

The data set is built set-based (INSERT ... SELECT over generate_series); the test suite runs
the same command on a small county. Each run times, for one month:
(a) generate_roster for every unit through the service; (b) a hand-written INSERT ... SELECT
making the same lines into a copy of the lines table, as the reference, and the ratio;
(c) the county aggregation (GROUP BY unit and category) and the fund request with its
reconciliation; (d) the Excel export of the largest unit and of the whole county, each in a
child process that reports its own peak memory.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Role, RoleGrant, Unit, UnitKind, User, Village
from cases.models import Case, Household, Person
from dengkou_aid.lib.crypto import encrypt
from dengkou_aid.lib.dbroles import triggers_suspended
from disbursement import services
from disbursement.exports import county_rosters, write_rosters_xlsx
from disbursement.models import (
    Entitlement,
    EntitlementChange,
    PaymentRoster,
    RosterKind,
    RosterLine,
    RosterState,
)

UNITS = 100
VILLAGES_PER_UNIT = 10
PREFIX = "BENCH"
REFERENCE_TABLE = "bench_reference_lines"


class Command(BaseCommand):
    help = (
        "Time roster generation, county aggregation and Excel export on N synthetic beneficiaries."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--beneficiaries", type=int, default=100_000)
        parser.add_argument(
            "--month", default="", help="roster month, YYYY-MM (default: next month)"
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--skip-export", action="store_true")
        parser.add_argument(
            "--masked-only",
            action="store_true",
            help="export with masked account numbers only (whole numbers decrypt every line)",
        )
        # Internal: run one export in this (child) process and print its figures.
        parser.add_argument("--export", default="", help=argparse_suppress())
        parser.add_argument("--full-accounts", action="store_true", help=argparse_suppress())

    def handle(self, *args, **options) -> None:
        month = _month(options["month"])
        if options["export"]:
            self.stdout.write(
                json.dumps(_child_export(options["export"], month, options["full_accounts"]))
            )
            return
        n = options["beneficiaries"]
        if n < UNITS:
            raise CommandError(f"--beneficiaries must be at least {UNITS}")
        figures: dict[str, Any] = {
            "beneficiaries": n,
            "month": f"{month:%Y-%m}",
            "database": "postgresql",
            "machine": _machine(),
        }
        existing = Entitlement.objects.filter(case__number__startswith=f"{PREFIX}-").count()
        if existing and existing != n:
            raise CommandError(
                f"this database already holds {existing} benchmark beneficiaries; use a fresh database"
            )
        started = time.perf_counter()
        if not existing:
            build_data_set(n, month)
        figures["build_seconds"] = round(time.perf_counter() - started, 2)
        _reset_month(month)
        _analyze()
        steps = [time_reference, time_generation, compare_with_reference, time_county]
        if not options["skip_export"]:
            steps.append(
                (lambda m: time_exports(m, full_accounts=False))
                if options["masked_only"]
                else time_exports
            )
        for step in steps:
            result = step(month)
            figures.update(result)
            if step is time_generation:
                _analyze()  # the county works days after the 20th: statistics are current by then
            if step is time_generation:
                figures["ratio_service_to_reference"] = round(
                    figures["generation_seconds"] / max(figures["reference_seconds"], 1e-6), 2
                )
            if options["verbosity"] > 1:
                self.stderr.write(json.dumps(result, default=str))
        if options["json"]:
            self.stdout.write(json.dumps(figures, ensure_ascii=False, default=str))
        else:
            for key, value in figures.items():
                self.stdout.write(f"{key}: {value}")


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


def _month(text: str) -> date:
    if not text:
        return services.next_month()
    year, month = (int(p) for p in text.split("-")[:2])
    return date(year, month, 1)


def _machine() -> str:
    cpus = os.cpu_count()
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        memory = "RAM unknown"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return (
        f"{platform.machine()} {cpus} cores, {memory}, Python {platform.python_version()}, "
        f"PostgreSQL {server}"
    )


# --- Building the data set ---------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _insert_select(
    model: type[models.Model], exprs: dict[str, Any], source: str, params: list
) -> int:
    """INSERT INTO model (every column) SELECT <expr or the field's default> FROM <source>.

    An expression is SQL text, or (SQL text, its parameters); '%' in SQL is written '%%'.
    """
    columns, values, all_params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(_q(field.column))
        expr = exprs.get(field.column)
        if isinstance(expr, tuple):
            values.append(expr[0])
            all_params.extend(expr[1])
        elif expr is not None:
            values.append(expr)
        else:
            default = field.get_default()
            values.append("%s")
            all_params.append(
                field.get_db_prep_value(default, connection) if default is not None else None
            )
    sql = (
        f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params + params)
        return cursor.rowcount


def _counter(n: int) -> tuple[str, list]:
    """The row source of i = 1..n."""
    return "generate_series(1, %s) AS seq(i)", [n]


def build_data_set(n: int, month: date) -> None:
    """100 units with 10 villages each, and n households, people, cases in payment and entitlements."""
    with transaction.atomic():
        county, _ = Unit.objects.get_or_create(
            code=f"{PREFIX}CTY",
            defaults={"name": "基准测试县民政局", "kind": UnitKind.COUNTY_BUREAU},
        )
        units = Unit.objects.bulk_create(
            [
                Unit(code=f"{PREFIX}{u:03d}", name=f"基准测试镇{u:03d}", kind=UnitKind.TOWN)
                for u in range(UNITS)
            ]
        )
        Village.objects.bulk_create(
            [
                Village(
                    code=f"{PREFIX}{u:03d}{v:02d}",
                    name=f"基准测试村{u:03d}-{v:02d}",
                    kind="village",
                    urban_rural_code="220" if v % 3 else "111",
                    unit=unit,
                    is_sample=True,
                )
                for u, unit in enumerate(units)
                for v in range(VILLAGES_PER_UNIT)
            ]
        )
        finance = User.objects.create(
            username=f"{PREFIX.lower()}_finance", full_name="基准测试资金", unit=county
        )
        RoleGrant.objects.create(user=finance, role=Role.COUNTY_FINANCE)
    first_village = (
        Village.objects.filter(code__startswith=PREFIX)
        .order_by("id")
        .values_list("id", flat=True)[0]
    )
    now = timezone.now()
    token = encrypt("150822197001010000")
    account = encrypt("6222020000000000000")
    source, params = _counter(n)
    # Skewed village choice: v = (i mod 1000)^2 / 1000, so unit 0 holds about 10% of everyone.
    village = f"({first_village} + ((i %% 1000) * (i %% 1000)) / 1000)"
    with transaction.atomic():
        _insert_select(
            Household,
            {
                "unit_id": f"(SELECT unit_id FROM {_q(Village._meta.db_table)} WHERE id = {village})",
                "village_id": village,
                "area": "CASE WHEN i %% 3 = 0 THEN 'urban' ELSE 'rural' END",
                "import_key": f"'{PREFIX}-' || i",
                "created_at": ("%s", [now]),
                "updated_at": ("%s", [now]),
            },
            source,
            params,
        )
        household = _q(Household._meta.db_table)
        _insert_select(
            Person,
            {
                "household_id": "h.id",
                "name": "'测试' || h.id",
                "id_number": ("%s", [token]),
                "id_hash": f"'{PREFIX}' || h.id",
                "sex": "'M'",
                "birth_date": ("%s", [date(1960, 1, 1)]),
                "relation": "'head'",
                "illness": "''",
                "created_at": ("%s", [now]),
            },
            f"{household} h WHERE h.import_key LIKE '{PREFIX}-%%'",
            [],
        )
        start = "(h.id %% 24)"
        _insert_select(
            Case,
            {
                "number": f"'{PREFIX}-' || p.id",
                "unit_id": "h.unit_id",
                "village_id": "h.village_id",
                "household_id": "h.id",
                "applicant_id": "p.id",
                "kind": "CASE WHEN h.id %% 10 = 0 THEN 'tekun' ELSE 'dibao' END",
                "area": "h.area",
                "state": "'standing_publicity'",
                "imported": ("%s", [True]),
                "submitted_at": ("%s", [now]),
                "decided_on": ("%s", [services.add_months(month, -2)]),
                "outcome": "'approve'",
                "care_tier": "CASE WHEN h.id %% 10 = 0 THEN (CASE h.id %% 3 WHEN 0 THEN 'full' WHEN 1 THEN 'partial' ELSE 'self_care' END) ELSE '' END",
                "monthly_amount": "CASE WHEN h.id %% 10 = 0 THEN 1020 + (h.id %% 3) * 400 ELSE 200 + (h.id %% 47) * 10 END",
                "created_at": ("%s", [now]),
                "updated_at": ("%s", [now]),
            },
            f"{_q(Person._meta.db_table)} p JOIN {household} h ON h.id = p.household_id WHERE p.id_hash LIKE '{PREFIX}%%'",
            [],
        )
        # Start months spread over the last two years, written as literal dates per offset.
        months = " ".join(
            f"WHEN {k} THEN '{services.add_months(month, -k).isoformat()}'" for k in range(24)
        )
        start_month = f"CAST(CASE {start.replace('h.id', 'c.household_id')} {months} END AS DATE)"
        _insert_select(
            Entitlement,
            {
                "case_id": "c.id",
                "household_id": "c.household_id",
                "unit_id": "c.unit_id",
                "village_id": "c.village_id",
                "kind": "c.kind",
                "area": "c.area",
                "care_tier": "c.care_tier",
                "category": (
                    "CASE WHEN c.kind = 'tekun' THEN (CASE c.care_tier WHEN 'full' THEN 'tekun_full' "
                    "WHEN 'partial' THEN 'tekun_partial' ELSE 'tekun_self_care' END) "
                    "WHEN c.area = 'urban' THEN 'dibao_urban' ELSE 'dibao_rural' END"
                ),
                "monthly_amount": "c.monthly_amount",
                "start_month": start_month,
                # One in twenty stopped last month: present in the data, absent from the roster.
                "end_month": f"CASE WHEN c.id %% 20 = 0 THEN CAST('{services.add_months(month, -1).isoformat()}' AS DATE) ELSE NULL END",
                "account_kind": "'bank_card'",
                "account_number": ("%s", [account]),
                "account_hash": f"'{PREFIX}' || c.id",
                "account_masked": f"'***************' || {_last4('c.id')}",
                "bank_name": "'内蒙古农村信用社'",
                "holder_name": "'测试' || c.household_id",
                "created_at": ("%s", [now]),
            },
            f"{_q(Case._meta.db_table)} c WHERE c.number LIKE '{PREFIX}-%%'",
            [],
        )
        entitlement = _q(Entitlement._meta.db_table)
        bench = f"{entitlement} e WHERE e.account_hash LIKE '{PREFIX}%%'"
        change = {
            "entitlement_id": "e.id",
            "reason": "'基准测试'",
            "created_at": ("%s", [now]),
        }
        _insert_select(
            EntitlementChange,
            {
                **change,
                "effective_month": "e.start_month",
                "kind": "'start'",
                "old_amount": "0",
                "new_amount": "e.monthly_amount - CASE WHEN e.id %% 10 = 1 THEN 30 ELSE 0 END",
                "source": "'import'",
            },
            bench,
            [],
        )
        # One in ten was raised by 30 yuan this month.
        _insert_select(
            EntitlementChange,
            {
                **change,
                "effective_month": ("%s", [month]),
                "kind": "'increase'",
                "old_amount": "e.monthly_amount - 30",
                "new_amount": "e.monthly_amount",
                "source": "'review'",
            },
            f"{bench} AND e.id %% 10 = 1 AND e.start_month < %s",
            [month],
        )
        _insert_select(
            EntitlementChange,
            {
                **change,
                "effective_month": ("%s", [month]),
                "kind": "'stop'",
                "old_amount": "e.monthly_amount",
                "new_amount": "0",
                "source": "'review'",
            },
            f"{bench} AND e.end_month IS NOT NULL",
            [],
        )
        # What the services keep on the entitlement: the current amount and the month it
        # took effect (the latest change).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {entitlement} SET amount_since = start_month, monthly_amount = monthly_amount - "
                f"CASE WHEN id %% 10 = 1 AND start_month >= %s THEN 30 ELSE 0 END "
                f"WHERE account_hash LIKE '{PREFIX}%%'",
                [month],
            )
            cursor.execute(
                f"UPDATE {entitlement} SET amount_since = %s WHERE account_hash LIKE '{PREFIX}%%' "
                f"AND ((id %% 10 = 1 AND start_month < %s) OR end_month IS NOT NULL)",
                [month, month],
            )
            cursor.execute(
                f"UPDATE {entitlement} SET monthly_amount = 0 WHERE account_hash LIKE '{PREFIX}%%' "
                f"AND end_month IS NOT NULL"
            )


def _last4(column: str) -> str:
    return f"right('0000' || {column}, 4)"


RESET_TABLES = (
    "disbursement_countyfundrequest_rosters",
    "disbursement_countyfundrequest",
    "disbursement_rosterline",
    "disbursement_rostersignature",
    "disbursement_rosterevent",
    "disbursement_paymentroster",
)


def _reset_month(month: date, *, keep_reference: bool = False) -> None:
    """Remove the month's rosters of the benchmark units so each run starts alike (benchmark data only)."""
    rosters = f"SELECT id FROM {_q(PaymentRoster._meta.db_table)} WHERE month = %s AND unit_id IN (SELECT id FROM {_q(Unit._meta.db_table)} WHERE code LIKE '{PREFIX}%%')"
    # A rerun removes the month's submitted rosters, their signatures and events and the fund
    # request: written-once records, so the triggers that keep them are suspended meanwhile.
    with transaction.atomic(), triggers_suspended(*RESET_TABLES), connection.cursor() as cursor:
        if not keep_reference:
            cursor.execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
        for table in ("disbursement_countyfundrequest_rosters",):
            cursor.execute(f"DELETE FROM {table} WHERE paymentroster_id IN ({rosters})", [month])
        cursor.execute(
            f"DELETE FROM disbursement_countyfundrequest WHERE month = %s AND created_by_id IN "
            f"(SELECT id FROM {_q(User._meta.db_table)} WHERE username = %s)",
            [month, f"{PREFIX.lower()}_finance"],
        )
        for model in ("rosterline", "rostersignature", "rosterevent", "exportjob"):
            cursor.execute(
                f"DELETE FROM disbursement_{model} WHERE roster_id IN ({rosters})", [month]
            )
        cursor.execute(
            f"DELETE FROM {_q(PaymentRoster._meta.db_table)} WHERE id IN ({rosters})", [month]
        )


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _bench_units():
    return Unit.objects.filter(code__startswith=PREFIX, kind=UnitKind.TOWN).order_by("code")


# --- Timings -----------------------------------------------------------------------------


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def time_generation(month: date) -> dict[str, Any]:
    counter = _QueryCounter()
    units = list(_bench_units())
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        for unit in units:
            services.generate_roster(unit=unit, month=month, actor=None)
    seconds = time.perf_counter() - started
    lines = RosterLine.objects.filter(roster__month=month, unit__in=units).count()
    started = time.perf_counter()
    for unit in units:
        services.generate_roster(unit=unit, month=month, actor=None)
    again = time.perf_counter() - started
    assert RosterLine.objects.filter(roster__month=month, unit__in=units).count() == lines
    return {
        "roster_lines": lines,
        "generation_seconds": round(seconds, 3),
        "queries_per_unit": round(counter.count / len(units), 1),
        "regeneration_seconds": round(again, 3),
    }


def time_reference(month: date) -> dict[str, Any]:
    """The hand-written INSERT ... SELECT making the month's lines for every unit in one statement.

    It writes into the real lines table (same indexes and deferred foreign keys as the
    service pays for), with the same session settings; the rows are kept aside for the
    comparison and removed before the service runs.
    """
    PaymentRoster.objects.bulk_create(
        [PaymentRoster(unit=unit, month=month, kind=RosterKind.REGULAR) for unit in _bench_units()]
    )
    lines = _q(RosterLine._meta.db_table)
    # The same rule as the schema's: the current amount unless a change after the month.
    amount = (
        "CASE WHEN e.amount_since <= %s THEN e.monthly_amount ELSE "
        "(SELECT c.new_amount FROM disbursement_entitlementchange c WHERE c.entitlement_id = e.id "
        "AND c.effective_month <= %s ORDER BY c.effective_month DESC, c.id DESC LIMIT 1) END"
    )
    sql = f"""
        INSERT INTO {lines} (roster_id, entitlement_id, unit_id, village_id, household_id, kind,
            area, care_tier, category, amount, holder_name, account_kind, account_number,
            account_masked, bank_name)
        SELECT r.id, e.id, e.unit_id, e.village_id, e.household_id, e.kind, e.area, e.care_tier,
            e.category, {amount}, e.holder_name, e.account_kind, e.account_number,
            e.account_masked, e.bank_name
        FROM disbursement_entitlement e
        JOIN disbursement_paymentroster r
          ON r.unit_id = e.unit_id AND r.month = %s AND r.kind = 'regular' AND r.state <> 'returned'
        WHERE e.start_month <= %s AND (e.end_month IS NULL OR e.end_month >= %s)
        ON CONFLICT DO NOTHING
    """
    with connection.cursor() as cursor:
        started = time.perf_counter()
        with transaction.atomic():
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(sql, [month, month, month, month, month])
        seconds = time.perf_counter() - started
        cursor.execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
        cursor.execute(
            f"CREATE TABLE {REFERENCE_TABLE} AS SELECT l.unit_id, l.entitlement_id, l.amount "
            f"FROM {lines} l JOIN disbursement_paymentroster r ON r.id = l.roster_id WHERE r.month = %s",
            [month],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {REFERENCE_TABLE}")
        count = cursor.fetchone()[0]
    _reset_month(month, keep_reference=True)
    return {"reference_seconds": round(seconds, 3), "reference_lines": count}


def compare_with_reference(month: date) -> dict[str, Any]:
    """Rows in one set and not the other, both ways: 0 means the service made the same lines."""
    lines = _q(RosterLine._meta.db_table)
    service = (
        f"SELECT l.unit_id, l.entitlement_id, l.amount FROM {lines} l "
        f"JOIN disbursement_paymentroster r ON r.id = l.roster_id WHERE r.month = %s"
    )
    reference = f"SELECT unit_id, entitlement_id, amount FROM {REFERENCE_TABLE}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({reference} EXCEPT {service}) d", [month])
        missing = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM ({service} EXCEPT {reference}) d", [month])
        extra = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {REFERENCE_TABLE}")
    return {"reference_rows_differing": missing + extra}


def time_county(month: date) -> dict[str, Any]:
    # Sign-off is not what is measured: mark the rosters submitted directly (benchmark data only).
    PaymentRoster.objects.filter(
        month=month, unit__in=_bench_units(), kind=RosterKind.REGULAR
    ).update(state=RosterState.SUBMITTED)
    started = time.perf_counter()
    totals = services.county_totals(month)
    aggregation = time.perf_counter() - started
    finance = User.objects.get(username=f"{PREFIX.lower()}_finance")
    started = time.perf_counter()
    request = services.create_fund_request(month=month, actor=finance)
    fund_request = time.perf_counter() - started
    roster_sum = sum((r.total_amount for r in request.rosters.all()), Decimal(0))
    return {
        "county_aggregation_seconds": round(aggregation, 3),
        "county_groups": len(totals),
        "fund_request_with_reconciliation_seconds": round(fund_request, 3),
        "county_total_amount": str(request.total_amount),
        "county_reconciles": request.total_amount == roster_sum,
    }


def time_exports(month: date, *, full_accounts: bool = True) -> dict[str, Any]:
    largest = (
        PaymentRoster.objects.filter(month=month, unit__in=_bench_units())
        .order_by("-line_count")
        .first()
    )
    result = {"largest_unit_lines": largest.line_count}
    for label, target, full in (
        ("export_largest_unit", f"roster:{largest.pk}", False),
        ("export_county", "county", False),
        ("export_county_full_accounts", "county", True),
    ):
        if full and not full_accounts:
            continue
        child = _run_child(target, month, full)
        result[f"{label}_seconds"] = child["seconds"]
        result[f"{label}_peak_rss_mb"] = child["peak_rss_mb"]
        result[f"{label}_file_mb"] = child["file_mb"]
    return result


def _run_child(target: str, month: date, full: bool) -> dict[str, Any]:
    command = [
        sys.executable,
        "manage.py",
        "bench_disbursement",
        "--export",
        target,
        "--month",
        f"{month:%Y-%m}",
    ]
    if full:
        command.append("--full-accounts")
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def _child_export(target: str, month: date, full: bool) -> dict[str, Any]:
    if target.startswith("roster:"):
        rosters = list(
            PaymentRoster.objects.filter(pk=int(target.split(":")[1])).select_related("unit")
        )
    else:
        rosters = county_rosters(month)
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        started = time.perf_counter()
        write_rosters_xlsx(handle.name, rosters, full_accounts=full)
        seconds = time.perf_counter() - started
        size = os.path.getsize(handle.name)
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "file_mb": round(size / 1024 / 1024, 1),
    }
