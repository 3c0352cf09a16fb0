"""The tablet app is installable and its libraries are ours: a manifest with icons, a service
worker that loads Workbox from our static files and lists the shell, vendored libraries with
their licences, and no CDN anywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from cases.tablet.views import SHELL_FILES

VENDOR = Path(settings.BASE_DIR) / "static" / "vendor"
LICENCES = {
    "workbox": "MIT",
    "workbox-window": "MIT",
    "signature_pad": "MIT",
    "idb": "ISC",
}


@pytest.mark.parametrize("package", sorted(LICENCES))
def test_each_vendored_library_keeps_its_licence_and_version(package):
    folder = VENDOR / package
    assert (folder / "LICENSE").read_text(encoding="utf-8").strip()
    assert f"({LICENCES[package]})" in (folder / "VERSION").read_text(encoding="utf-8")


def test_the_vendoring_script_pins_its_packages_in_a_lock_file():
    root = Path(settings.BASE_DIR) / "vendor"
    lock = json.loads((root / "package-lock.json").read_text(encoding="utf-8"))
    versions = {
        name.split("node_modules/")[-1]: p["version"]
        for name, p in lock["packages"].items()
        if name
    }
    assert versions["workbox-sw"] == "7.4.1" and versions["signature_pad"] == "5.1.4"
    assert "npm ci" in (root / "vendor.sh").read_text(encoding="utf-8")


def test_the_manifest_makes_the_app_installable(client):
    response = client.get("/tablet/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/tablet/",
        "/tablet/",
        "standalone",
    )
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL))


def test_the_service_worker_loads_workbox_from_our_files_and_precaches_the_shell(client):
    response = client.get("/tablet/sw.js")
    assert response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    assert 'importScripts("/static/vendor/workbox/workbox-sw.js")' in body
    assert 'modulePathPrefix: "/static/vendor/workbox"' in body
    precache = json.loads(re.search(r"precacheAndRoute\((\[.*?\])", body, re.S).group(1))
    urls = {entry["url"] for entry in precache}
    assert "/tablet/" in urls and "/static/js/tablet/app.js" in urls
    assert all(entry["revision"] for entry in precache)


def test_the_tablet_loads_nothing_from_another_site(client):
    page = client.get("/tablet/").content.decode()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    worker = client.get("/tablet/sw.js").content.decode()
    assert re.findall(r"importScripts\(([^)]*)\)", worker) == [
        '"/static/vendor/workbox/workbox-sw.js"'
    ]
    for path in SHELL_FILES:
        assert finders.find(path), path
    ours = [p for p in SHELL_FILES if p.startswith(("js/", "css/"))]
    for path in ours:
        assert "http" not in Path(finders.find(path)).read_text(encoding="utf-8"), path


def test_the_shell_is_in_chinese_and_asks_for_the_pin_first(client):
    page = client.get("/tablet/").content.decode()
    assert '<html lang="zh-CN">' in page and 'rel="manifest"' in page
    assert "解锁本机草稿" in page and "解锁码" in page
