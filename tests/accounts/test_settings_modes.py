"""The one settings module: embedded default, production refusals, check --deploy, compose file."""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PROD_KEYS = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
    "DJANGO_ALLOWED_HOSTS": "aid.dengkou.example",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "FIELD_HASH_KEY": secrets.token_hex(32),
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_passes_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_KEYS)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS"]
)
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {k: v for k, v in PROD_KEYS.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "生产模式缺少必需的环境变量" in result.stderr


def test_production_refuses_to_start_without_its_database():
    clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **PROD_KEYS},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "生产模式缺少必需的环境变量：DATABASE_URL" in result.stderr


def test_production_refuses_demo_data():
    # A database nobody listens on: the refusal comes before any connection.
    nowhere = "postgres://postgres@/dengkou_aid?host=/nonexistent"
    result = manage("seed_demo", env={**PROD_KEYS, "DATABASE_URL": nowhere})
    assert result.returncode != 0
    assert "生产模式下不允许生成演示数据" in result.stderr


def test_the_database_is_postgresql_with_eager_celery_and_shanghai_time(settings):
    from django.conf import settings as live

    assert live.TIME_ZONE == "Asia/Shanghai"
    assert live.LANGUAGE_CODE == "zh-hans"
    assert live.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if not os.environ.get("REDIS_URL"):
        assert live.CELERY_TASK_ALWAYS_EAGER is True


def test_without_database_url_the_settings_use_the_embedded_servers_socket():
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ENV")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "d = settings.DATABASES['default']; "
            "print(d['ENGINE'], d['NAME'], d['HOST'] or d['OPTIONS']['host'])",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "dengkou_aid.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "dengkou_aid",
        str(ROOT / ".pgdata" / "run"),
    ]


def test_compose_file_is_valid():
    if shutil.which("docker-compose") is None:
        from ..conftest import service_missing

        service_missing("docker-compose (Debian package)")
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x",
        "FIELD_ENCRYPTION_KEYS": "x",
        "FIELD_HASH_KEY": "x",
        "POSTGRES_PASSWORD": "x",
    }
    result = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
