"""Settings for dengkou-aid, read from the environment.

The database is always PostgreSQL, named by `DATABASE_URL`. Without it, the project uses
the embedded PostgreSQL that `make run` starts in `.pgdata/run` (see dengkou_aid.devdb;
`make test` points `DATABASE_URL` at a throw-away one), with Celery tasks executed eagerly
and DEBUG on. `REDIS_URL` selects Redis as the Celery broker and result store.
`DJANGO_ENV=production` turns on the hardened mode, which refuses to start without its
secrets and its `DATABASE_URL`.
"""

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
TESTING = env.bool("DJANGO_TESTING", default=False)

# Development keys are public on purpose: they only ever protect demo data.
_DEV_SECRET = "dev-only-not-secret-dengkou-aid-0000000000000000000000000000"
_DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LWRlbmdrb3UtYWlkLTA="
_DEV_HASH_KEY = "dev-only-hash-key-dengkou-aid"

if PRODUCTION:
    missing = [
        name
        for name in (
            "DJANGO_SECRET_KEY",
            "DJANGO_ALLOWED_HOSTS",
            "FIELD_ENCRYPTION_KEYS",
            "FIELD_HASH_KEY",
        )
        if not env.str(name, default="")
    ]
    if missing:
        raise ImproperlyConfigured("生产模式缺少必需的环境变量：" + "、".join(missing))

# Values written in this repository (the development keys above, docker-compose.yml's
# default database password): anyone who can read the code knows them.
_REPOSITORY_SECRETS = frozenset({_DEV_SECRET, _DEV_FIELD_KEY, _DEV_HASH_KEY, "dengkou"})
_MIN_SECRET_LENGTH = 32


def _production_refusals() -> list[str]:
    """Why the production environment is unsafe to start with, one reason per line."""
    reasons = []
    secret_key = env.str("DJANGO_SECRET_KEY")
    hash_key = env.str("FIELD_HASH_KEY")
    database_url = env.str("DATABASE_URL", default="")
    database_password = env.db_url_config(database_url).get("PASSWORD", "") if database_url else ""
    if secret_key in _REPOSITORY_SECRETS:
        reasons.append("DJANGO_SECRET_KEY 使用了代码仓库中公开的开发密钥")
    if hash_key in _REPOSITORY_SECRETS:
        reasons.append("FIELD_HASH_KEY 使用了代码仓库中公开的开发密钥")
    if _REPOSITORY_SECRETS.intersection(env.list("FIELD_ENCRYPTION_KEYS")):
        reasons.append("FIELD_ENCRYPTION_KEYS 含有代码仓库中公开的开发密钥")
    if database_password in _REPOSITORY_SECRETS:
        reasons.append("DATABASE_URL 的数据库密码是代码仓库中公开的默认密码")
    if len(secret_key) < _MIN_SECRET_LENGTH:
        reasons.append(f"DJANGO_SECRET_KEY 不足{_MIN_SECRET_LENGTH}个字符")
    if len(hash_key) < _MIN_SECRET_LENGTH:
        reasons.append(f"FIELD_HASH_KEY 不足{_MIN_SECRET_LENGTH}个字符")
    if "*" in env.list("DJANGO_ALLOWED_HOSTS"):
        reasons.append("DJANGO_ALLOWED_HOSTS 不得含有“*”，须列出本系统的域名")
    return reasons


if PRODUCTION and (refusals := _production_refusals()):
    raise ImproperlyConfigured("生产模式拒绝启动：" + "；".join(refusals) + "。")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET)
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION) and not PRODUCTION
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Field-level encryption of ID and account numbers (see dengkou_aid.lib.crypto).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[_DEV_FIELD_KEY])
FIELD_HASH_KEY = env.str("FIELD_HASH_KEY", default=_DEV_HASH_KEY)

INSTALLED_APPS = [
    "django.contrib.admin",
    "dengkou_aid.third_party_apps.AuthConfig",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "dengkou_aid.third_party_apps.GuardianConfig",
    "dengkou_aid.third_party_apps.AxesConfig",
    "django_otp",
    "dengkou_aid.third_party_apps.TotpConfig",
    "dengkou_aid.third_party_apps.StaticConfig",
    "dengkou_aid.third_party_apps.BeatConfig",
    "csp",
    "accounts",
    "cases",
    "disbursement",
    "supervision",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dengkou_aid.urls"
WSGI_APPLICATION = "dengkou_aid.wsgi.application"
ASGI_APPLICATION = "dengkou_aid.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "dengkou_aid.navigation.navigation",
            ],
        },
    },
]

if PRODUCTION and not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("生产模式缺少必需的环境变量：DATABASE_URL")
DATABASES = {
    # The socket of the embedded server `make run` keeps in .pgdata/run (dengkou_aid.devdb).
    "default": env.db(
        "DATABASE_URL",
        default=f"postgres://postgres@/dengkou_aid?host={BASE_DIR / '.pgdata' / 'run'}",
    ),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# MLPS 2.0 level 3: idle sessions end after 30 minutes. The expiry slides forward at most
# once a minute (accounts.middleware.IdleSessionMiddleware), not with a write per request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# API tokens end 12 hours after sign-in, or after 30 idle minutes (last use is written at
# most once a minute, see accounts.authentication), like a session.
API_TOKEN_TTL = timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=12))
API_TOKEN_IDLE_TIMEOUT = timedelta(minutes=env.int("API_TOKEN_IDLE_MINUTES", default=30))

# Lock-out per account, not per address: a whole township office shares one IP.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# The 30 minutes run from the fifth failure: attempts during the lock are refused (and still
# audited) without restarting it, so nobody can keep a leader locked out by retrying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
# Counting per address would let one clerk's typos lock out a whole township office.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

AUDIT_RETENTION_DAYS = 180

# X-Forwarded-For is believed only from these peers (IPs or CIDRs, comma-separated): the
# audit log, axes and the public pages' rate limit all read the address through
# accounts.audit.client_ip. Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES 中的地址无效：{_proxy}") from None
AXES_CLIENT_IP_CALLABLE = "accounts.audit.client_ip"
RATELIMIT_IP_META_KEY = "accounts.audit.client_ip"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Our own translations of what Django and the third-party apps leave in English.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# MEDIA_ROOT is never routed: every stored file goes out through the permission-checked
# door (dengkou_aid/files.py). With MEDIA_ACCEL_REDIRECT_PREFIX set (production behind
# nginx), the door answers with X-Accel-Redirect to that internal location instead of
# streaming the bytes itself.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_ACCEL_REDIRECT_PREFIX = env.str("MEDIA_ACCEL_REDIRECT_PREFIX", default="")
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: eager without Redis; with Redis, acknowledge late so a killed worker's task
# is redelivered, and never schedule further ahead than the visibility timeout.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = False
# Only the beat holding the Redis lock sends the schedule (see dengkou_aid/beat.py).
CELERY_BEAT_SCHEDULER = "dengkou_aid.beat:LockedDatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# API tokens are accounts.ApiToken (DRF's token with a last-use time), so
# rest_framework.authtoken is not installed.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",
        "accounts.authentication.PasswordCheckedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "accounts.api.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
# The API schema and its documentation pages: open locally, signed-in only in production.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=not PRODUCTION)

SPECTACULAR_SETTINGS = {
    "TITLE": "磴口县社会救助审核确认系统 API",
    "DESCRIPTION": "城乡低保、低保边缘家庭、特困供养审核确认的接口（平板端与系统对接）。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["accounts.api.ApiDocsPermission"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `kind` or `state` field; name their enums so the schema is stable.
    "ENUM_NAME_OVERRIDES": {
        "CaseKindEnum": "cases.models.Kind",
        "CaseStateEnum": "cases.models.State",
        "IncomeKindEnum": "cases.models.IncomeKind",
        "RosterKindEnum": "disbursement.models.RosterKind",
        "RosterStateEnum": "disbursement.models.RosterState",
        "ChangeReportKindEnum": "disbursement.models.ChangeReportKind",
    },
}

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.smtp.EmailBackend"
        if PRODUCTION
        else "django.core.mail.backends.console.EmailBackend"
    ),
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@dengkou-aid.local")

OTP_TOTP_ISSUER = "磴口县社会救助"
# Belt and braces with accounts.admin: django-otp never shows a key or QR code in /admin/.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Content-Security-Policy (django-csp 4): scripts and styles only from our own static files;
# chart data travels in json_script blocks, which browsers never execute.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
