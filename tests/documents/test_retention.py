"""Retention by kind, set by the county; expired archives are listed for a decision and a
destruction is a signed record — nothing is destroyed automatically."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cases.documents.archive import destroy_archive, expired_cases, expires_on
from cases.models import ArchiveDestruction, Case, CaseEvent, Kind, RetentionRule, State
from dengkou_aid.errors import Conflict, NotAllowed

from .builders import make_case, set_state


def _closed_case(people, *, years_ago: int, **kw):
    case = make_case(people, State.ACCEPTED, **kw)
    case = set_state(case, State.WITHDRAWN, withdrawal_reason="申请人撤回")
    at = timezone.now() - timedelta(days=365 * years_ago + 2)
    seq = case.events.count() + 1
    CaseEvent.objects.create(
        case=case, seq=seq, at=at, action="withdraw", label="撤回", to_state=State.WITHDRAWN
    )
    return case


@pytest.fixture
def expired(people):
    RetentionRule.objects.create(kind=Kind.DIBAO, years=2)
    return _closed_case(people, years_ago=3)


def test_expiry_is_closing_date_plus_the_kinds_years(people):
    RetentionRule.objects.create(kind=Kind.DIBAO, years=2)
    fresh = _closed_case(people, years_ago=0)
    make_case(people, State.APPROVED, head_name="刘美玲")  # open: never expires

    closed = timezone.localtime(fresh.events.last().at).date()
    assert expires_on(fresh) == closed.replace(year=closed.year + 2)
    assert expired_cases(Case.objects.all()) == []


def test_an_expired_archive_is_listed_and_a_destruction_is_a_signed_record(expired, people, login):
    assert [row[0].pk for row in expired_cases(Case.objects.all())] == [expired.pk]
    html = login(people.first).get("/documents/retention/").content.decode()
    assert expired.number in html

    with pytest.raises(NotAllowed):
        destroy_archive(case=expired, actor=people.handler, reason="期满")
    record = destroy_archive(
        case=expired, actor=people.first, reason="保管期满，经集体研究同意销毁"
    )

    assert record.signer_name == "孙镇长" and len(record.content_hash) == 64
    assert expired_cases(Case.objects.all()) == []
    with pytest.raises(Conflict):
        destroy_archive(case=expired, actor=people.first, reason="再次")
    assert Case.objects.filter(pk=expired.pk).exists()
    assert ArchiveDestruction.objects.count() == 1


def test_an_archive_before_expiry_cannot_be_destroyed(people):
    fresh = _closed_case(people, years_ago=0)

    with pytest.raises(Conflict, match="未到保管期限"):
        destroy_archive(case=fresh, actor=people.first, reason="提前")
    assert not ArchiveDestruction.objects.exists()


def test_only_the_county_edits_retention_periods(people, login):
    data = {"dibao": 50, "marginal": 20, "tekun": 60}

    refused = login(people.handler, Client()).post("/documents/retention/", data)
    saved = login(people.supervisor, Client()).post("/documents/retention/", data)

    assert refused.status_code == 403
    assert saved.status_code == 302
    assert RetentionRule.objects.get(kind=Kind.TEKUN).years == 60
