"""In Debian's Chromium: the leader in charge opens the case waiting for them from their home
page, chooses to agree, sees what they are about to sign, types a wrong one-time code (nothing
is signed), then the right one, and signs (谁签字，谁负责)."""

from __future__ import annotations

import os

import pytest

from cases.models import Signature, SignatureStep, State

from ..conftest import service_missing, signing_otp
from ..documents.builders import make_case
from ..e2e_support import browser, chromium_available, signed_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_leader_confirms_what_is_signed_and_signs_with_a_one_time_code(
    live_server, people, settings
):
    if not chromium_available():
        service_missing("chromium")
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the wrong code and the right one come a second apart
    case = make_case(people, State.PROPOSED)
    with browser() as chromium:
        leader = signed_in(chromium, live_server, people.direct)
        with leader.expect_navigation():
            leader.click(f"[data-testid=home-block] a:has-text('{case.number}')")
        form = leader.locator("form[data-step=sign_opinion]")
        form.locator("select[name=opinion]").select_option("agree")
        form.locator("textarea[name=text]").fill("同意经办人意见")
        with leader.expect_navigation():
            form.locator("button[type=submit]").click()

        signed = leader.inner_text("[data-testid=what-is-signed]")
        for shown in (case.number, "张建国", "拟批准", "同意经办人意见", "赵分管"):
            assert shown in signed, shown
        assert not Signature.objects.filter(step=SignatureStep.OPINION).exists()

        right = signing_otp(people.direct)
        leader.fill("input[name=otp_token]", f"{(int(right) + 1) % 1_000_000:06d}")
        with leader.expect_navigation():
            leader.click("[data-testid=confirm-step]")
        assert "动态口令错误，未签字" in leader.inner_text("[data-testid=otp-error]")
        assert not Signature.objects.filter(step=SignatureStep.OPINION).exists()

        leader.fill("input[name=otp_token]", signing_otp(people.direct))
        with leader.expect_navigation():
            leader.click("[data-testid=confirm-step]")
        assert "已办理：签署审核意见" in leader.inner_text(".messages")
        assert "分管领导审核意见" in leader.inner_text("[data-testid=signatures]")
    signature = Signature.objects.get(step=SignatureStep.OPINION)
    assert (signature.signer, signature.text) == (people.direct, "同意经办人意见")
    assert case.__class__.objects.get(pk=case.pk).state == State.OPINION_SIGNED
