"""X-Forwarded-For is believed only from a listed proxy: audit log, axes and rate limit alike."""

from __future__ import annotations

import pytest
from axes.helpers import get_client_ip_address
from axes.models import AccessFailureLog
from django.test import RequestFactory

from accounts.audit import client_ip
from accounts.models import AuditLog

factory = RequestFactory()


def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request_from("203.0.113.7", "10.0.0.1")) == "203.0.113.7"


def test_a_client_that_is_not_a_listed_proxy_cannot_name_its_address(settings):
    settings.TRUSTED_PROXIES = ["172.28.0.10"]
    assert client_ip(request_from("203.0.113.7", "127.0.0.1")) == "203.0.113.7"


def test_the_listed_proxy_names_the_client_it_saw(settings):
    settings.TRUSTED_PROXIES = ["172.28.0.10"]
    assert client_ip(request_from("172.28.0.10", "198.51.100.4")) == "198.51.100.4"


def test_a_forged_first_hop_behind_the_proxy_is_skipped(settings):
    # The client wrote "127.0.0.1" itself; nginx appended the address it really saw.
    settings.TRUSTED_PROXIES = ["172.28.0.0/24"]
    forwarded = "127.0.0.1, 198.51.100.4"
    assert client_ip(request_from("172.28.0.10", forwarded)) == "198.51.100.4"


def test_a_malformed_header_from_the_proxy_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXIES = ["172.28.0.10"]
    assert client_ip(request_from("172.28.0.10", "not-an-address")) == "172.28.0.10"


def test_axes_reads_the_address_through_the_same_function(settings):
    settings.TRUSTED_PROXIES = ["172.28.0.10"]
    assert get_client_ip_address(request_from("203.0.113.7", "10.0.0.1")) == "203.0.113.7"
    assert get_client_ip_address(request_from("172.28.0.10", "10.0.0.1")) == "10.0.0.1"


@pytest.mark.parametrize(
    ("trusted", "logged"),
    [([], "127.0.0.1"), (["127.0.0.1"], "10.0.0.9")],
    ids=["untrusted peer: header ignored", "trusted proxy: header honoured"],
)
def test_a_failed_sign_in_is_logged_with_the_believed_address(
    client, people, settings, trusted, logged
):
    settings.TRUSTED_PROXIES = trusted
    client.post(
        "/accounts/login/",
        {"username": "handler_a", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="10.0.0.9",
        REMOTE_ADDR="127.0.0.1",
    )
    failure = AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED, username="handler_a")
    assert failure.ip_address == logged
    assert AccessFailureLog.objects.get(username="handler_a").ip_address == logged
