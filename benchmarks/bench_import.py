"""The caseload import at county scale, in PostgreSQL.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/dk_import DJANGO_DEBUG=0
    .venv/bin/python manage.py migrate
    .venv/bin/python benchmarks/bench_import.py setup
    .venv/bin/python benchmarks/bench_import.py generate --members 100000 --out /tmp/caseload.csv
    .venv/bin/python benchmarks/bench_import.py preview --file /tmp/caseload.csv
    .venv/bin/python benchmarks/bench_import.py import --file /tmp/caseload.csv
    .venv/bin/python benchmarks/bench_import.py import --file /tmp/caseload.csv   # again: no change

DJANGO_DEBUG=0 matters: with DEBUG on, Django keeps the text of the last 9,000 queries,
which for bulk INSERTs is most of the memory. Run each step in its own process so its peak memory (ru_maxrss) is its own; compare the
peaks for 20,000 and 100,000 members to see how memory follows the file.
Households have 1 to 4 members (2.5 on average: 100,000 members make 40,000 households)
spread over 10 units and 100 villages; every row is valid.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dengkou_aid.settings")

import django  # noqa: E402

django.setup()

from accounts.models import Role, RoleGrant, Unit, UnitKind, User, Village, VillageKind  # noqa: E402
from cases.models import Area, PolicyStandard, StandardKind  # noqa: E402
from dengkou_aid.lib.idnumber import check_char  # noqa: E402
from disbursement.imports.preview import check_caseload  # noqa: E402
from disbursement.imports.reading import HEADER  # noqa: E402
from disbursement.imports.write import import_caseload  # noqa: E402

UNITS = 10
VILLAGES = 100


def cpu() -> float:
    """CPU seconds of this process: on a shared, loaded machine a fairer figure than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def id_number(i: int) -> str:
    region = 150000 + i % 1000
    birth = date(1940, 1, 1) + timedelta(days=i // 1000)
    first17 = f"{region:06d}{birth:%Y%m%d}002"
    return first17 + check_char(first17)


def card(i: int) -> str:
    body = f"622848{i:012d}"
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return body + str((10 - total % 10) % 10)


def setup() -> None:
    for n in range(UNITS):
        Unit.objects.get_or_create(
            code=f"15082290{n}", defaults={"name": f"基准镇{n}", "kind": UnitKind.TOWN}
        )
    units = list(Unit.objects.filter(code__startswith="15082290").order_by("code"))
    for n in range(VILLAGES):
        Village.objects.get_or_create(
            code=f"1508229{n:05d}",
            defaults={
                "unit": units[n % UNITS],
                "name": f"基准村{n}",
                "kind": VillageKind.VILLAGE,
                "urban_rural_code": "220",
                "is_sample": True,
            },
        )
    for kind, amount in (
        (StandardKind.DIBAO, "670"),
        (StandardKind.TEKUN_BASIC, "1020"),
        (StandardKind.TEKUN_CARE_FULL, "1266"),
        (StandardKind.TEKUN_CARE_PARTIAL, "495"),
        (StandardKind.TEKUN_CARE_SELF, "0"),
    ):
        PolicyStandard.objects.get_or_create(
            kind=kind,
            area=Area.RURAL,
            effective_from=date(2023, 1, 1),
            defaults={"amount": Decimal(amount), "is_demo": True},
        )
    county, _ = Unit.objects.get_or_create(
        code="150822", defaults={"name": "磴口县民政局", "kind": UnitKind.COUNTY_BUREAU}
    )
    admin, _ = User.objects.get_or_create(
        username="bench_admin", defaults={"full_name": "基准管理员", "unit": county}
    )
    RoleGrant.objects.get_or_create(user=admin, role=Role.ADMINISTRATOR)
    print("setup done")


def generate(members: int, out: str) -> None:
    villages = list(Village.objects.filter(code__startswith="1508229").select_related("unit"))
    started = time.perf_counter()
    written = households = 0
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        while written < members:
            size = min(1 + households % 4, members - written)
            village = villages[households % len(villages)]
            tekun = households % 10 == 0 and size == 1
            amount = "1515" if tekun else str(400 * size)
            for m in range(size):
                writer.writerow(
                    [
                        f"B{households:07d}",
                        village.unit.code,
                        village.name,
                        "特困" if tekun else "农村牧区低保",
                        "半护理" if tekun else "",
                        f"成员{written}",
                        id_number(written),
                        "户主" if m == 0 else "子女",
                        size,
                        amount,
                        "2024-03",
                        card(households) if m == 0 else "",
                        "中国农业银行磴口县支行" if m == 0 else "",
                        "是" if households % 3 == 0 else "否",
                        "2025-09-30",
                    ]
                )
                written += 1
            households += 1
    size_mb = os.path.getsize(out) / 1024 / 1024
    seconds = time.perf_counter() - started
    print(
        f"generated {written} members, {households} households, {size_mb:.1f} MB in {seconds:.1f} s"
    )


def preview(path: str) -> None:
    baseline = peak_mib()
    started, cpu_started = time.perf_counter(), cpu()
    with open(path, "rb") as source:
        check = check_caseload(source, scope=None)
    seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
    counts = check.counts()
    print(
        f"preview: {counts['rows']} rows, {counts['households_create']} households to create, "
        f"{counts['households_unchanged']} unchanged, {check.error_total} errors "
        f"in {seconds:.1f} s (Python CPU {cpu_seconds:.1f} s); "
        f"peak RSS {peak_mib():.0f} MiB (after setup {baseline:.0f} MiB)"
    )


def run_import(path: str) -> None:
    actor = User.objects.get(username="bench_admin")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    baseline = peak_mib()
    started, cpu_started = time.perf_counter(), cpu()
    result = import_caseload(
        open_source=lambda: open(path, "rb"),  # noqa: SIM115 (closed by the importer)
        file_name=Path(path).name,
        sha256=digest,
        batch_id=None,
        scope=None,
        actor=actor,
    )
    seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
    counts = result.counts
    print(
        f"import: created {counts['created']}, updated {counts['updated']}, unchanged "
        f"{counts['unchanged']} households ({counts['rows']} rows) in {seconds:.1f} s "
        f"(Python CPU {cpu_seconds:.1f} s); "
        f"peak RSS {peak_mib():.0f} MiB (after setup {baseline:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    sub.add_parser("setup")
    gen = sub.add_parser("generate")
    gen.add_argument("--members", type=int, default=100_000)
    gen.add_argument("--out", default="/tmp/caseload.csv")
    for name in ("preview", "import"):
        step = sub.add_parser(name)
        step.add_argument("--file", default="/tmp/caseload.csv")
    args = parser.parse_args()
    if args.step == "setup":
        setup()
    elif args.step == "generate":
        generate(args.members, args.out)
    elif args.step == "preview":
        preview(args.file)
    else:
        run_import(args.file)


if __name__ == "__main__":
    main()
