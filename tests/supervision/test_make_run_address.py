"""`make run` prints the address it really serves: HOST reaches the demo printout and runserver."""

import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_hands_its_host_to_the_printout_and_to_the_server():
    plan = subprocess.run(
        # `run` wraps these steps in the embedded database (a $(MAKE) line, which make runs even
        # under -n), so the plan is asked of the steps themselves.
        ["make", "-n", "_seed", "_serve", "HOST=127.0.0.1:8101"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "seed_demo --address 127.0.0.1:8101" in plan
    assert "runserver 127.0.0.1:8101" in plan
    assert "127.0.0.1:8000" not in plan


@pytest.mark.django_db
def test_the_demo_printout_names_the_address_it_was_given():
    out = StringIO()
    call_command("seed_demo", address="127.0.0.1:8101", stdout=out)
    assert "http://127.0.0.1:8101/" in out.getvalue()
    assert "127.0.0.1:8000" not in out.getvalue()
