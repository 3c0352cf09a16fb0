"""Drafts as the tablet sends them: an entrusted application with signatures drawn on the glass,
and a change report about a household in payment."""

from __future__ import annotations

import base64
import io
import uuid

import pytest
from PIL import Image, ImageDraw

from cases.tablet.models import GlassSignature
from cases.tablet.selectors import CONSENT_TEXT

from ..factories import unique_id_number
from ..reviews.conftest import paid  # noqa: F401


def drawing(*, dot: bool = False, ink: str = "black") -> str:
    """A signature pad's PNG: a scrawl, or a single dot."""
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if dot:
        pen.ellipse([300, 100, 303, 103], fill=(0, 0, 0, 255))
    else:
        pen.line([(40, 150), (120, 40), (200, 160), (330, 60), (520, 120)], fill=ink, width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def application_draft(village, *, names=("张三", "李梅"), key=None, ink="black", **payload) -> dict:
    members = [
        {"name": name, "id_number": unique_id_number(), "relation": rel, "adult": True}
        for name, rel in zip(names, ("head", "spouse"), strict=False)
    ]
    body = {
        "kind": "dibao",
        "village": village.pk,
        "area": "rural",
        "address": "一社12号",
        "entrusted_reason": "申请人行动不便",
        "members": members,
        "consent_text": CONSENT_TEXT,
        "consent_hash": GlassSignature.sha256(CONSENT_TEXT),
        "signatures": [
            {"name": m["name"], "image": drawing(ink=ink), "signed_at": "2020-01-01T08:00:00"}
            for m in members
        ],
    }
    body.update(payload)
    return {
        "key": str(key or uuid.uuid4()),
        "device": "测试平板",
        "made_at": "2020-01-01T08:00:00",
        "payload": body,
    }


@pytest.fixture
def tablet(client, login):
    """A signed-in client posting JSON drafts with its CSRF token, as the app does."""

    def _tablet(user):
        login(user)
        token = client.get("/tablet/api/session/").json()["csrf"]

        def post(url, body):
            return client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)

        client.post_draft = post
        return client

    return _tablet
