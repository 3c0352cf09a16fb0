"""Load benchmark of the township case list and a case page (issue 3).

Builds N cases (default 100,000) across the ten approval units in a PostgreSQL database of
its own, serves the app with gunicorn, and drives it with wrk (50 connections) as one signed-in
handler. Prints p50/p95/p99 and requests per second per page, and with --write appends them to
docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_case_pages.py --cases 100000 --write

Needs PostgreSQL on 127.0.0.1 (user postgres, trust) and Debian's wrk.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LUA = """
done = function(summary, latency, requests)
  io.write(string.format("P50=%.2f P95=%.2f P99=%.2f RPS=%.1f ERR=%d\\n",
    latency:percentile(50)/1000, latency:percentile(95)/1000, latency:percentile(99)/1000,
    summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dengkou_aid.settings")
    import django

    django.setup()


def recreate_database(name: str) -> None:
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)


def build_data(n_cases: int) -> tuple[int, int]:
    """Create units, villages, households, members and cases in bulk; return (user id, a case id)."""
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Role, RoleGrant, Unit, User, Village, VillageKind
    from cases.models import Case, Household, Kind, Person, State
    from dengkou_aid.lib.crypto import keyed_hash
    from tests.factories import unique_id_number

    call_command("migrate", verbosity=0)
    call_command("load_reference_data", verbosity=0)
    units = list(Unit.objects.approval_units())
    villages = []
    for unit in units:
        for k in range(10):
            villages.append(
                Village(
                    code=f"{unit.code}{k + 200:03d}",
                    name=f"{unit.name}样例村{k}",
                    kind=VillageKind.VILLAGE,
                    urban_rural_code="220",
                    unit=unit,
                    is_sample=True,
                )
            )
    Village.objects.bulk_create(villages)
    villages = list(Village.objects.all())
    rng = random.Random(7)
    states = [
        State.ACCEPTED,
        State.VERIFIED,
        State.ASSESSED,
        State.IN_PUBLICITY,
        State.IN_PAYMENT,
        State.REJECTED,
    ]
    today = timezone.localdate()
    batch = 5000
    for start in range(0, n_cases, batch):
        size = min(batch, n_cases - start)
        picks = [rng.choice(villages) for _ in range(size)]
        households = Household.objects.bulk_create(
            [Household(unit_id=v.unit_id, village=v, area="rural") for v in picks]
        )
        people = []
        for i, h in enumerate(households):
            id_number = unique_id_number(date(1950 + (start + i) % 50, 1 + i % 12, 1 + i % 28))
            people.append(
                Person(
                    household=h,
                    name=f"张{'明华立新'[i % 4]}{i % 10}",
                    sex="M",
                    id_number=id_number,
                    birth_date=date(1960, 1, 1),
                    relation="head",
                    id_hash=keyed_hash(id_number),
                )
            )
        Person.objects.bulk_create(people)
        cases = []
        for i, (h, p) in enumerate(zip(households, people, strict=True)):
            accepted = today - timedelta(days=rng.randint(0, 40))
            cases.append(
                Case(
                    number=f"B{start + i:08d}",
                    unit_id=h.unit_id,
                    village_id=h.village_id,
                    household=h,
                    applicant=p,
                    kind=rng.choice([Kind.DIBAO, Kind.DIBAO, Kind.TEKUN, Kind.MARGINAL]),
                    area="rural",
                    state=rng.choice(states),
                    accepted_on=accepted,
                    due_date=accepted + timedelta(days=28),
                )
            )
        Case.objects.bulk_create(cases)
        print(f"  {start + size} cases", file=sys.stderr)
    unit = units[0]
    user, _ = User.objects.get_or_create(
        username="bench_handler", defaults={"full_name": "压测经办", "unit": unit}
    )
    RoleGrant.objects.get_or_create(user=user, role=Role.HANDLER)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    case_id = Case.objects.filter(unit=unit).order_by("id").values_list("id", flat=True).first()
    return user.pk, case_id


def session_cookie(user_id: int) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User

    user = User.objects.get(pk=user_id)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def wait_until_serving(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=30).read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer {url}")


def run_wrk(url: str, cookie: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            "-H",
            f"Cookie: sessionid={cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"P50=([\d.]+) P95=([\d.]+) P99=([\d.]+) RPS=([\d.]+) ERR=(\d+)", out)
    if not match:
        raise RuntimeError(out)
    p50, p95, p99, rps, err = match.groups()
    return {
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "rps": float(rps),
        "errors": int(err),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", default="dk_bench_cases")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--write", action="store_true", help="append the figures to docs/benchmarks.md"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure the data a previous run built"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    if not args.reuse:
        recreate_database(args.database)
    setup_django(url)
    if args.reuse:
        from django.core.management import call_command

        from accounts.models import User
        from cases.models import Case

        call_command("migrate", verbosity=0)
        user = User.objects.get(username="bench_handler")
        user_id = user.pk
        case_id = (
            Case.objects.filter(unit_id=user.unit_id)
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        args.cases = Case.objects.count()
    else:
        started = time.perf_counter()
        user_id, case_id = build_data(args.cases)
        print(f"data built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    cookie = session_cookie(user_id)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "dengkou_aid.wsgi",
            "-b",
            "127.0.0.1:8765",
            "-w",
            str(args.workers),
            "--log-level",
            "warning",
            "--preload",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_until_serving("http://127.0.0.1:8765/accounts/login/")
        results = {}
        for label, path in (("township case list", "/cases/"), ("case page", f"/cases/{case_id}/")):
            run_wrk(f"http://127.0.0.1:8765{path}", cookie, 5, args.connections)  # warm up
            results[label] = run_wrk(
                f"http://127.0.0.1:8765{path}", cookie, args.seconds, args.connections
            )
            print(label, results[label])
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)
    if args.write:
        from django.utils import timezone

        lines = [
            "",
            "## Case pages (issue 3)",
            "",
            f"`benchmarks/bench_case_pages.py --cases {args.cases}` on {platform.node()} "
            f"({os.cpu_count()} cores), {timezone.localdate()}: PostgreSQL 15, gunicorn {args.workers} sync workers, "
            f"wrk 2 threads × {args.connections} connections × {args.seconds} s, one signed-in handler.",
            "",
            "| page | p50 ms | p95 ms | p99 ms | requests/s | errors |",
            "|---|---|---|---|---|---|",
        ]
        for label, r in results.items():
            lines.append(
                f"| {label} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['rps']:.0f} | {r['errors']} |"
            )
        with open(ROOT / "docs/benchmarks.md", "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
