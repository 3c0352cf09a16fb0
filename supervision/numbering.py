"""The county bureau's numbered, signed documents: a yearly number per series, the
supervisor's signature, and the PDF stored with its digest."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from accounts.models import Role, User
from dengkou_aid.lib.pdf import render_pdf
from dengkou_aid.lib.stored_names import stored_name

from .models import CountyNumber, CountySignature

# Each series' number: 磴民政通〔2026〕3号.
SERIES = {
    "bulletin": "磴民政通",
    "complaint_reply": "磴民政信复",
    "acceptance": "磴民政验",
    "revocation": "磴民政撤",
}


def lock_series(series: str, *, on: date | None = None) -> CountyNumber:
    """Lock a series' counter for Dengkou's year (created at its first use); call inside a
    transaction. Two supervisors issuing at once wait here one after the other."""
    year = (on or timezone.localdate()).year
    CountyNumber.objects.get_or_create(series=series, year=year)
    return CountyNumber.objects.select_for_update().get(series=series, year=year)


def next_number(series: str, *, on: date | None = None) -> str:
    """Take the next number of a series in Dengkou's year; call inside a transaction."""
    counter = lock_series(series, on=on)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{SERIES[series]}〔{counter.year}〕{counter.last}号"


def sign_county(*, actor: User, act: str, over: dict[str, Any], text: str = "") -> CountySignature:
    return CountySignature.create_signed(
        signer=actor, role=Role.COUNTY_SUPERVISOR, over=over, act=act, text=text
    )


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render_into(field: FieldFile, template: str, context: dict[str, Any]) -> str:
    """Render a PDF into a file field (not yet saved) and return its SHA-256."""
    pdf = render_pdf(template, context)
    field.save(stored_name("pdf"), ContentFile(pdf), save=False)
    return hashlib.sha256(pdf).hexdigest()


def signature_lines(signature: CountySignature) -> dict[str, str]:
    return {
        "name": signature.signer_name,
        "unit": signature.unit.name,
        "at": timezone.localtime(signature.signed_at).strftime("%Y年%m月%d日 %H:%M"),
    }
