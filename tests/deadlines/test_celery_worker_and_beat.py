"""A real Celery worker and two real beats against Redis and PostgreSQL.

The deadline scan is queued twice; the worker is killed (SIGKILL) halfway through the first
run and a new one started: the killed run is redelivered (late acknowledgement, a short
visibility timeout here) and every warning still exists exactly once. Two beats started
together: only one holds the lock, and the other takes over when it stops.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection
from kombu import Connection, Producer

from accounts.models import Notification
from cases.models import Case, State
from cases.tasks import scan_deadlines
from dengkou_aid.celery import app

from ..conftest import service_missing
from ..factories import CaseFactory, HouseholdFactory, PersonFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(ROOT / ".venv" / "bin" / "celery")
TODAY = "2026-11-27"
DUE = "2026-12-04"  # five working days after TODAY
CASES = 100
# A Redis database of its own: a worker restoring unacknowledged messages at start-up
# must never touch the queues of other workers sharing this Redis.
REDIS_DB = os.environ.get("DEADLINES_TEST_REDIS_DB", "14")
# Short, so the killed run is redelivered as soon as a new worker starts.
VISIBILITY_TIMEOUT = 1


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        service_missing("Redis (REDIS_URL)")
    import redis

    url = urlsplit(url)._replace(path=f"/{REDIS_DB}").geturl()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        service_missing(f"Redis at {url}")
    return url


def database_url() -> str:
    settings = connection.settings_dict
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    if host.startswith("/"):  # the embedded server's Unix socket (dengkou_aid.devdb)
        return f"postgres://{settings['USER']}{password}@/{settings['NAME']}?host={host}"
    port = settings.get("PORT") or 5432
    return f"postgres://{settings['USER']}{password}@{host}:{port}/{settings['NAME']}"


class Processes:
    """Celery processes started by one test, each logging to its own file; all stopped at the end."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path, self.env, self.started = tmp_path, env, []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [CELERY, "-A", "dengkou_aid", *args, "-l", "info"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = self.tmp_path / f"{name}.log"
        self.started.append((process, log))
        return process

    def stop_all(self) -> None:
        for process, log in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            log.close()


def log_of(process) -> str:
    return process.log_path.read_text(errors="replace")


def wait_for(condition, *, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def celery_env(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url(),
        "C_FORCE_ROOT": "1",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "DJANGO_SETTINGS_MODULE": "dengkou_aid.settings",
        "PYTHONUNBUFFERED": "1",
    }
    processes = Processes(tmp_path, env)
    yield processes
    processes.stop_all()


def make_cases(people) -> list[Case]:
    applicant = PersonFactory(household=HouseholdFactory(village=people.village_a))
    cases = [
        CaseFactory.build(
            applicant=applicant,
            number=f"IT-{i:05d}",
            state=State.ACCEPTED,
            accepted_on="2026-11-02",
            due_date=DUE,
            handler=people.handler,
        )
        for i in range(CASES)
    ]
    return Case.objects.bulk_create(cases)


def queue_scan(url: str, queue: str) -> str:
    """Publish the scan to the test's own queue on the test's Redis database."""
    with Connection(url) as conn:
        result = scan_deadlines.apply_async(
            kwargs={"day": TODAY}, queue=queue, producer=Producer(conn)
        )
    return result.id


def succeeded(worker, task_id: str) -> bool:
    return f"scan_deadlines[{task_id}] succeeded" in log_of(worker)


def test_the_scan_survives_a_killed_worker_and_warns_exactly_once(celery_env, people):
    app.conf.task_always_eager = False
    url, queue = celery_env.env["REDIS_URL"], f"deadlines-test-{uuid.uuid4().hex[:8]}"
    worker_args = ("worker", "--pool=solo", "-Q", queue, "--without-gossip", "--without-mingle")
    first_worker = celery_env.start("worker1", *worker_args, "-n", f"w1-{queue}@%h")
    beats = [celery_env.start("beat1", "beat")]
    cases = make_cases(people)
    beats.append(celery_env.start("beat2", "beat"))
    expected = {
        (user.pk, f"deadline:{case.pk}:{DUE}:5")
        for case in cases
        for user in (people.handler, people.direct)
    }

    wait_for(lambda: "ready." in log_of(first_worker), timeout=60, what="the first worker")
    first_run, queued_at = queue_scan(url, queue), time.monotonic()
    wait_for(
        lambda: Notification.objects.count() >= len(expected) // 5,
        timeout=20,
        what="the first scan to be under way",
        step=0.02,
    )
    first_worker.send_signal(signal.SIGKILL)
    first_worker.wait(timeout=5)
    halfway = Notification.objects.count()
    assert 0 < halfway < len(expected), "the worker must die halfway through the scan"
    assert not succeeded(first_worker, first_run)

    # Once older than the visibility timeout, the killed run's message is restored at start-up.
    time.sleep(max(0.0, queued_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second_worker = celery_env.start("worker2", *worker_args, "-n", f"w2-{queue}@%h")
    second_run = queue_scan(url, queue)

    holder = only_one_beat_holds_the_lock(beats, url)
    holder.send_signal(signal.SIGTERM)
    standby = next(beat for beat in beats if beat is not holder)
    wait_for(
        lambda: "beat lock acquired" in log_of(standby),
        timeout=15,
        what="the standby beat to take over",
    )

    wait_for(
        lambda: succeeded(second_worker, first_run) and succeeded(second_worker, second_run),
        timeout=60,
        what="the redelivered and the second scan",
        step=0.2,
    )
    found = list(Notification.objects.values_list("user_id", "key"))
    assert len(found) == len(set(found)) == len(expected)
    assert set(found) == expected


def only_one_beat_holds_the_lock(beats, url: str):
    import redis

    from dengkou_aid.beat import lock_key

    def settled():
        logs = [log_of(beat) for beat in beats]
        acquired = [b for b, log in zip(beats, logs, strict=True) if "beat lock acquired" in log]
        standing = [b for b, log in zip(beats, logs, strict=True) if "stands by" in log]
        return (acquired, standing) if acquired and standing else None

    acquired, standing = wait_for(settled, timeout=60, what="both beats to start")
    assert len(acquired) == 1 and standing != acquired
    holder = acquired[0]
    token = redis.Redis.from_url(url).get(lock_key())
    assert token is not None
    assert token.decode() == f"{socket.gethostname()}:{holder.pid}"
    assert re.search(r"beat lock held by \S+; \S+ stands by", log_of(standing[0]))
    return holder
