"""Spreadsheets of the caseload as townships keep them, built row by row for each test."""

from __future__ import annotations

import csv
import io

import pytest

from dengkou_aid.lib.spreadsheets import Sheet, write_xlsx
from disbursement.imports.reading import HEADER

from ..factories import unique_id_number

CARD = "6228480040012345670"  # passes the Luhn check
OTHER_CARD = "6228480040012345688"


def row(
    no: str = "H1",
    *,
    unit: str = "150822100",
    village: str = "样例嘎查A",
    kind: str = "农村牧区低保",
    tier: str = "",
    name: str = "张三",
    id_number: str | None = None,
    relation: str = "户主",
    size: int | str = 1,
    amount: str = "600",
    start: str = "2024-01",
    account: str = CARD,
    bank: str = "中国农业银行磴口县支行",
    irregular: str = "否",
    review: str = "2025-06-30",
) -> list[str]:
    """One member row in the template's column order."""
    return [
        no,
        unit,
        village,
        kind,
        tier,
        name,
        id_number or unique_id_number(),
        relation,
        str(size),
        amount,
        start,
        account,
        bank,
        irregular,
        review,
    ]


def household(no: str, size: int, amount: str = "1200", **kwargs) -> list[list[str]]:
    """A household of `size` members: a head and the rest as children, all agreeing."""
    first = row(no, size=size, amount=amount, relation="户主", **kwargs)
    kwargs.pop("name", None)
    kwargs.pop("id_number", None)
    rest = [
        row(no, size=size, amount=amount, relation="子女", name=f"张{i}", account="", **kwargs)
        for i in range(1, size)
    ]
    return [first, *rest]


def csv_file(rows: list[list[str]], encoding: str = "utf-8", name: str = "caseload.csv"):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    data = io.BytesIO(text.getvalue().encode(encoding))
    data.name = name
    return data


def xlsx_file(rows: list[list[str]], name: str = "caseload.xlsx"):
    data = io.BytesIO()
    write_xlsx(data, [Sheet(title="在保家庭", header=HEADER, rows=rows)])
    data.seek(0)
    data.name = name
    return data


@pytest.fixture
def caseload(people, standards):
    """The named people and the demo standards: what every import test needs."""
    return people


@pytest.fixture
def administrator(people):
    from accounts.models import Role

    from ..conftest import make_user

    return make_user(people.county, Role.ADMINISTRATOR, username="admin", full_name="系统管理员")


def upload(client, kind: str, file, **extra):
    """Post a file to the upload page, run what it queued on commit, then open the batch page."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/imports/upload/{kind}/", {"file": file}, **extra)
    if response.status_code != 302:
        return response
    return client.get(response["Location"])


def confirm(client, batch):
    """Confirm a previewed batch; the import it queues runs at once (eager Celery)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/imports/{batch.pk}/confirm/")
    assert response.status_code == 302, response.content.decode()[:300]
    return client.get(response["Location"])


def latest_batch():
    from disbursement.models import ImportBatch

    return ImportBatch.objects.order_by("-id").first()
