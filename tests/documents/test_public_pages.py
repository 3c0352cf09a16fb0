"""Public pages without sign-in: each approval unit's service guide (editable by the unit)
and the standing publicity list; cacheable, linked from the sign-in page."""

from __future__ import annotations

from django.core.cache import cache
from django.test import Client

from cases.models import Kind, ServiceGuide


def test_the_guide_is_public_with_default_text_for_the_three_kinds(people, client):
    response = client.get(f"/public/{people.unit_a.code}/guide/")

    html = response.content.decode()
    assert response.status_code == 200
    for label in ("城乡低保", "低保边缘家庭", "特困供养"):
        assert f"{label}审核确认" in html
    assert "20个工作日" in html and "延长10个工作日" in html
    assert "审核确认公示→审核确认" in html
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]


def test_the_index_lists_approval_units_only(people, client):
    html = client.get("/public/").content.decode()

    assert "巴彦高勒镇" in html and "隆盛合镇" in html
    assert "磴口县民政局</td>" not in html and "样例社会工作服务中心" not in html
    assert client.get(f"/public/{people.county.code}/guide/").status_code == 404


def test_the_units_handler_edits_the_guide_and_the_public_sees_it(people, login, client):
    form = {
        "conditions": "本镇户籍居民，家庭月人均收入低于低保标准。",
        "procedure": "申请→受理→核对→调查→核算→公示→确认",
        "materials": "申请书",
        "time_limit": "20个工作日",
        "contacts": "民政办 0478-0000000",
        "notes": "",
    }

    saved = login(people.handler, Client()).post(f"/documents/guides/{Kind.DIBAO}/", form)
    refused = login(people.assistant, Client()).post(f"/documents/guides/{Kind.DIBAO}/", form)
    other_unit = login(people.outsider, Client()).post(
        f"/documents/guides/{Kind.DIBAO}/", {**form, "conditions": "隆盛合镇自己的条件"}
    )

    assert saved.status_code == 302 and other_unit.status_code == 302
    assert refused.status_code == 403
    unit_a_page = client.get(f"/public/{people.unit_a.code}/guide/").content.decode()
    unit_b_page = client.get(f"/public/{people.unit_b.code}/guide/").content.decode()
    assert "本镇户籍居民" in unit_a_page and "隆盛合镇自己的条件" not in unit_a_page
    assert "隆盛合镇自己的条件" in unit_b_page and "本镇户籍居民" not in unit_b_page
    assert ServiceGuide.objects.filter(unit=people.unit_a, updated_by=people.handler).exists()


def test_the_sign_in_page_links_to_the_public_pages(client):
    assert 'href="/public/"' in client.get("/accounts/login/").content.decode()


def test_public_pages_answer_get_only(people, client):
    assert client.post(f"/public/{people.unit_a.code}/guide/").status_code == 405


def test_the_public_pages_are_rate_limited_per_address(people, client, settings):
    settings.RATELIMIT_ENABLE = True
    cache.clear()
    url = f"/public/{people.unit_a.code}/guide/"

    answers = [client.get(url, REMOTE_ADDR="203.0.113.9").status_code for _ in range(61)]

    assert answers[:60] == [200] * 60 and answers[60] == 429
    refused = client.get(url, REMOTE_ADDR="203.0.113.9")
    assert refused["Retry-After"] == "60" and "访问过于频繁" in refused.content.decode()
    assert client.get(url, REMOTE_ADDR="203.0.113.10").status_code == 200
    cache.clear()
