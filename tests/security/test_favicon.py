"""A favicon is served: linked from every page, and /favicon.ico leads to it without sign-in."""

from django.contrib.staticfiles import finders


def test_the_icon_files_exist_and_every_page_links_them(client):
    assert finders.find("img/favicon.ico") and finders.find("img/favicon.svg")
    page = client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in page and "img/favicon.svg" in page


def test_favicon_ico_leads_to_the_icon_without_signing_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.ico")
