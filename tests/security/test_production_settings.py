"""Production refuses to start with a secret written in the repository, a short key, or `*` hosts.

Each case loads the settings in a fresh interpreter, as gunicorn, Celery and manage.py do.
"""

import os
import subprocess
import sys

import pytest

from dengkou_aid.settings import _DEV_FIELD_KEY, _DEV_HASH_KEY, _DEV_SECRET

from ..accounts.test_settings_modes import PROD_KEYS, ROOT, manage

DEV_SECRETS = {
    "DJANGO_SECRET_KEY": _DEV_SECRET,
    "FIELD_ENCRYPTION_KEYS": _DEV_FIELD_KEY,
    "FIELD_HASH_KEY": _DEV_HASH_KEY,
}


def start(
    env: dict[str, str], module: str = "dengkou_aid.wsgi", then: str = ""
) -> subprocess.CompletedProcess:
    """Import the WSGI application (what starting the web server does) or just the settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    return subprocess.run(
        [sys.executable, "-c", f"import {module}; {then}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "dengkou_aid.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_refused(result: subprocess.CompletedProcess, *reasons: str) -> None:
    assert result.returncode != 0
    assert "ImproperlyConfigured: 生产模式拒绝启动" in result.stderr, result.stderr[-2000:]
    for reason in reasons:
        assert reason in result.stderr


def test_the_production_keys_of_the_suite_start():
    result = start(PROD_KEYS)
    assert result.returncode == 0, result.stderr[-2000:]


def test_check_deploy_with_the_repositorys_development_secrets_refuses():
    result = manage("check", "--deploy", env={**PROD_KEYS, **DEV_SECRETS})
    assert_refused(
        result,
        "DJANGO_SECRET_KEY 使用了代码仓库中公开的开发密钥",
        "FIELD_HASH_KEY 使用了代码仓库中公开的开发密钥",
        "FIELD_ENCRYPTION_KEYS 含有代码仓库中公开的开发密钥",
    )


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("DJANGO_SECRET_KEY", _DEV_SECRET, "DJANGO_SECRET_KEY 使用了代码仓库中公开的开发密钥"),
        ("FIELD_HASH_KEY", _DEV_HASH_KEY, "FIELD_HASH_KEY 使用了代码仓库中公开的开发密钥"),
        (
            "FIELD_ENCRYPTION_KEYS",
            PROD_KEYS["FIELD_ENCRYPTION_KEYS"] + "," + _DEV_FIELD_KEY,
            "FIELD_ENCRYPTION_KEYS 含有代码仓库中公开的开发密钥",
        ),
        (
            "DATABASE_URL",
            "postgres://dengkou:dengkou@postgres:5432/dengkou_aid",  # docker-compose's default
            "DATABASE_URL 的数据库密码是代码仓库中公开的默认密码",
        ),
        ("DJANGO_SECRET_KEY", "k" * 31, "DJANGO_SECRET_KEY 不足32个字符"),
        ("FIELD_HASH_KEY", "x", "FIELD_HASH_KEY 不足32个字符"),
        ("DJANGO_ALLOWED_HOSTS", "*", "DJANGO_ALLOWED_HOSTS 不得含有“*”"),
        ("DJANGO_ALLOWED_HOSTS", "aid.dengkou.example,*", "DJANGO_ALLOWED_HOSTS 不得含有“*”"),
    ],
)
def test_production_refuses_to_start_with(name, value, reason):
    # The refusal is raised while the settings load, before any app: importing them is enough.
    assert_refused(start({**PROD_KEYS, name: value}, "dengkou_aid.settings"), reason)


def test_thirty_two_characters_are_enough():
    result = start({**PROD_KEYS, "DJANGO_SECRET_KEY": "s" * 32, "FIELD_HASH_KEY": "h" * 32})
    assert result.returncode == 0, result.stderr[-2000:]


def test_development_mode_still_runs_on_the_repositorys_keys():
    result = start({"DJANGO_ENV": "development"})
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(("mode", "public"), [("production", "False"), ("development", "True")])
def test_the_api_docs_need_sign_in_in_production_only(mode, public):
    result = start(
        {**PROD_KEYS, "DJANGO_ENV": mode},
        "dengkou_aid.settings",
        "print(dengkou_aid.settings.API_DOCS_PUBLIC)",
    )
    assert result.stdout.strip() == public, result.stderr[-2000:]
