"""Dynamic management at county-and-more scale, in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dk_dynamic \
        .venv/bin/python benchmarks/bench_dynamic.py seed --households 1000000
    ... bench_dynamic.py schedules          # one-off: a schedule for every entitlement
    ... bench_dynamic.py reviews            # the monthly opening (then a rerun: nothing new)
    ... bench_dynamic.py compare --rows 200000

Each step runs in its own process so its peak memory (ru_maxrss) is its own. The seed
writes 1 member per household with set-based SQL and COPY (ID numbers are only hashed:
the benchmark needs `id_hash`, not the encrypted number).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dengkou_aid.settings")
# DEBUG keeps the last 9,000 SQL statements (bulk inserts of 5,000 rows each) in memory.
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from accounts.models import Unit, UnitKind, User, Village, VillageKind  # noqa: E402
from dengkou_aid.lib.crypto import keyed_hash  # noqa: E402
from dengkou_aid.lib.idnumber import check_char  # noqa: E402

TODAY = date(2026, 2, 1)
DECIDED = date(2025, 1, 10)


def id_number(i: int, region_base: int = 150000) -> str:
    """A distinct valid ID number per i (region and birth date vary)."""
    region = region_base + i % 1000
    birth = date(1940, 1, 1) + timedelta(days=i // 1000)
    first17 = f"{region:06d}{birth:%Y%m%d}001"
    return first17 + check_char(first17)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(households: int) -> None:
    started = time.perf_counter()
    units = []
    for n in range(10):
        unit, _ = Unit.objects.get_or_create(
            code=f"15082290{n}", defaults={"name": f"基准镇{n}", "kind": UnitKind.TOWN}
        )
        units.append(unit)
    villages = []
    for n in range(100):
        village, _ = Village.objects.get_or_create(
            code=f"1508229{n:05d}",
            defaults={
                "unit": units[n % 10],
                "name": f"基准村{n}",
                "kind": VillageKind.VILLAGE,
                "urban_rural_code": "220",
                "is_sample": True,
            },
        )
        villages.append(village)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_village")
        cursor.execute("CREATE TEMP TABLE bench_village (k int, village_id bigint, unit_id bigint)")
        cursor.executemany(
            "INSERT INTO bench_village VALUES (%s, %s, %s)",
            [(k, v.pk, v.unit_id) for k, v in enumerate(villages)],
        )
        cursor.execute(
            """INSERT INTO cases_household (id, area, address, import_key, created_at, updated_at, unit_id, village_id)
               SELECT g, 'rural', '', '', now(), now(), v.unit_id, v.village_id
               FROM generate_series(1, %s) g JOIN bench_village v ON v.k = g %% 100""",
            [households],
        )
        _copy_people(cursor, households)
        cursor.execute(
            """INSERT INTO cases_case (id, number, kind, area, state, version, entrusted, entrusted_reason,
                 imported, submitted_at, deadline_provisional, extended, extension_reason, outcome, care_tier,
                 refusal_reason, rejection_reason, withdrawal_reason, termination_reason, created_at, updated_at,
                 unit_id, village_id, household_id, applicant_id, decided_on, monthly_amount)
               SELECT h.id, 'BENCH-' || h.id, 'dibao', 'rural', 'standing_publicity', 0, false, '', true, now(),
                 false, false, '', 'approve', '', '', '', '', '', now(), now(), h.unit_id, h.village_id, h.id, h.id,
                 %s, 670
               FROM cases_household h WHERE h.id <= %s""",
            [DECIDED, households],
        )
        cursor.execute(
            """INSERT INTO disbursement_entitlement (id, kind, area, care_tier, category, monthly_amount, start_month,
                 account_kind, account_number, account_hash, account_masked, bank_name, holder_name, created_at,
                 case_id, household_id, unit_id, village_id)
               SELECT c.id, 'dibao', 'rural', '', 'dibao_rural', 670, %s, 'social_security', '', '', '', '信用社',
                 '户主', now(), c.id, c.household_id, c.unit_id, c.village_id
               FROM cases_case c WHERE c.number LIKE 'BENCH-%%'""",
            [date(2025, 2, 1)],
        )
        for table in ("cases_household", "cases_person", "cases_case", "disbursement_entitlement"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    User.objects.get_or_create(username="bench_verifier", defaults={"full_name": "基准核对员"})
    print(f"seed: {households:,} households in {time.perf_counter() - started:.1f} s")


def _copy_people(cursor, households: int) -> None:
    chunk = 100_000
    for start in range(1, households + 1, chunk):
        buffer = io.StringIO()
        for i in range(start, min(start + chunk, households + 1)):
            volatile = i % 5 == 0
            buffer.write(
                f"{i}\t户主{i}\t\t{keyed_hash(id_number(i))}\tM\t1970-01-01\thead\t"
                f"{'able' if volatile else 'unable'}\t0\t\t{'t' if volatile else 'f'}\t\t2025-01-01 00:00:00+08\t{i}\n"
            )
        buffer.seek(0)
        cursor.copy_expert(
            "COPY cases_person (id, name, id_number, id_hash, sex, birth_date, relation, work_ability,"
            " disability_grade, illness, income_irregular, left_reason, created_at, household_id) FROM STDIN",
            buffer,
        )


def schedules() -> None:
    from disbursement.reviews.services import ensure_schedules

    started = time.perf_counter()
    created = ensure_schedules(today=TODAY)
    print(
        f"schedules: {created:,} created in {time.perf_counter() - started:.1f} s, peak {peak_mib():.0f} MiB"
    )


def reviews() -> None:
    from disbursement.reviews.services import open_due_reviews

    started = time.perf_counter()
    opened = open_due_reviews(today=TODAY)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = open_due_reviews(today=TODAY)
    second = time.perf_counter() - started
    print(
        f"reviews: {opened:,} opened in {first:.1f} s; rerun opened {again} in {second:.1f} s; "
        f"peak {peak_mib():.0f} MiB"
    )


def compare(rows: int, households: int) -> None:
    from disbursement.reviews.comparison import HEADER, import_comparison

    kinds = ["车辆", "不动产", "工资", "其他", "工商登记", "其他", "其他", "其他", "其他", "死亡"]
    path = Path(f"/tmp/bench_comparison_{rows}.csv")
    with path.open("w", encoding="gbk", newline="") as out:
        out.write(",".join(HEADER) + "\r\n")
        for n in range(rows):
            if n % 100 == 99:
                out.write("15082219801301123X,县公安局,车辆,,2026-01-01\r\n")  # month 13: invalid
                continue
            if n % 2:
                person = id_number(1 + (n * 7919) % households)  # a member in payment
            else:
                person = id_number(n, region_base=160000)  # nobody in payment
            out.write(
                f"{person},县数据局,{kinds[(n // 2) % 10]},项目{n},2026-01-{1 + n % 28:02d}\r\n"
            )
    started = time.perf_counter()
    with path.open("rb") as stream:
        run, created = _import_as_officer(import_comparison, stream, path.name)
    elapsed = time.perf_counter() - started
    print(
        f"compare: {rows:,} rows in {elapsed:.1f} s (created={created}); matched {run.matched_count:,}, "
        f"unmatched {run.unmatched_count:,}, malformed {run.malformed_count:,}, reviews {run.review_count:,}; "
        f"peak {peak_mib():.0f} MiB"
    )
    started = time.perf_counter()
    with path.open("rb") as stream:
        _import_as_officer(import_comparison, stream, path.name)
    print(f"compare again (same file): {time.perf_counter() - started:.1f} s")


def _import_as_officer(import_comparison, stream, name):
    from unittest import mock

    user = User.objects.get(username="bench_verifier")
    with mock.patch("disbursement.reviews.comparison.can_import", return_value=True):
        return import_comparison(stream=stream, file_name=name, actor=user)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["seed", "schedules", "reviews", "compare"])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    if args.step == "seed":
        seed(args.households)
    elif args.step == "schedules":
        schedules()
    elif args.step == "reviews":
        reviews()
    else:
        compare(args.rows, args.households)


if __name__ == "__main__":
    main()
