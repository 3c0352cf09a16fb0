"""Lock-out lasts 30 minutes from the fifth failure; trying during the lock does not extend it."""

from datetime import timedelta

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditLog

from ..factories import PASSWORD


def sign_in(client, password: str):
    return client.post("/accounts/login/", {"username": "handler_a", "password": password})


def test_the_lock_ends_thirty_minutes_after_the_fifth_failure_however_often_one_retries(
    client, people
):
    start = timezone.now().replace(microsecond=0) + timedelta(seconds=2)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            clock.shift(timedelta(seconds=10))
            sign_in(client, "wrong")
        fifth_failure = timezone.now()
        clock.shift(timedelta(seconds=1))
        assert sign_in(client, PASSWORD).status_code == 403

        # Someone keeps trying every four minutes, on the page and on the API.
        tablet = APIClient()
        for _ in range(7):
            clock.shift(timedelta(minutes=4))
            assert sign_in(client, "wrong").status_code == 403
            refused = tablet.post(
                "/api/auth/token/", {"username": "handler_a", "password": "wrong"}, format="json"
            )
            assert refused.status_code == 403
            assert "锁定" in refused.json()["detail"]

        clock.move_to(fifth_failure + timedelta(minutes=30) - timedelta(seconds=1))
        assert sign_in(client, PASSWORD).status_code == 403
        clock.move_to(fifth_failure + timedelta(minutes=30, seconds=1))
        assert sign_in(client, PASSWORD).status_code == 302

    # Every attempt during the lock is still in the audit log, failures and lock-outs alike.
    during = AuditLog.objects.filter(username="handler_a", at__gt=fifth_failure)
    assert during.filter(action="login_failed").count() == 1 + 7 * 2 + 1
    assert during.filter(action="locked_out").count() >= 1 + 7 * 2 + 1
