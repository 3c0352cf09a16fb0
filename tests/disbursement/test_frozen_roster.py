"""A submitted roster is frozen: no change through pages, API, admin or model save."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dengkou_aid.errors import Immutable
from disbursement.models import PaymentRoster, RosterLine
from disbursement.services import generate_roster

from .conftest import DECEMBER


def test_a_submitted_roster_cannot_be_regenerated(people, submitted_roster):
    with pytest.raises(Immutable, match="已报送"):
        generate_roster(unit=people.unit_a, month=DECEMBER, actor=people.handler)
    assert submitted_roster.lines.count() == 2


def test_model_save_and_delete_are_refused(submitted_roster):
    submitted_roster.total_amount = Decimal("1")
    with pytest.raises(Immutable):
        submitted_roster.save()
    with pytest.raises(Immutable):
        submitted_roster.delete()
    line = submitted_roster.lines.first()
    line.amount = Decimal("1")
    with pytest.raises(Immutable):
        line.save()
    with pytest.raises(Immutable):
        line.delete()
    with pytest.raises(Immutable):
        RosterLine.objects.filter(roster=submitted_roster).update(amount=Decimal("1"))
    with pytest.raises(Immutable):
        PaymentRoster.objects.filter(pk=submitted_roster.pk).update(total_amount=Decimal("1"))
    submitted_roster.refresh_from_db()
    assert submitted_roster.total_amount == Decimal("1510.00")


def test_the_page_refuses_to_regenerate_it(people, login, submitted_roster):
    client = login(people.handler)
    response = client.post("/disbursement/rosters/generate/", {"month": "2026-12"}, follow=True)
    assert "已报送" in response.content.decode()
    assert submitted_roster.lines.count() == 2


def test_the_api_refuses_change_and_delete(people, api, submitted_roster):
    client = api(people.handler)
    url = f"/api/disbursement/rosters/{submitted_roster.pk}/"
    assert client.get(url).status_code == 200
    for method in (client.patch, client.put, client.delete):
        response = method(url, {"total_amount": "1"}, format="json")
        assert response.status_code == 409
        assert "已报送" in response.json()["detail"]
    response = client.post(
        "/api/disbursement/rosters/generate/", {"month": "2026-12-01"}, format="json"
    )
    assert response.status_code == 409
    submitted_roster.refresh_from_db()
    assert submitted_roster.total_amount == Decimal("1510.00")


def test_the_admin_offers_no_change(rf, people, submitted_roster):
    from django.contrib.admin.sites import site

    admin = site._registry[PaymentRoster]
    request = rf.get("/")
    request.user = people.supervisor
    assert not admin.has_change_permission(request, submitted_roster)
    assert not admin.has_delete_permission(request, submitted_roster)


def test_another_units_roster_is_not_found(people, api, submitted_roster):
    response = api(people.outsider).get(f"/api/disbursement/rosters/{submitted_roster.pk}/")
    assert response.status_code == 404
