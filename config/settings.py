"""LEDger settings. Everything that differs between a laptop and production comes from the
environment (see README "Configuration"); the defaults give the embedded mode: SQLite, files on
local disk, Celery tasks run in-process."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("LEDGER_REQUIRE_SECRET_KEY", default=False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    # Only for the embedded/dev mode; production sets SECRET_KEY (README).
    SECRET_KEY = "ledger-insecure-dev-key-change-me"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")  # printed in QR codes

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "core",
    "recipes",
    "samples",
    "devices",
    "measurements",
    "exchange",
    "stations",
    "webhooks",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
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
            ],
        },
    },
]
WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout so the dev server and in-process tasks don't trip over each other.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# Files: local disk by default; S3-compatible when LEDGER_STORAGE=s3 (django-storages reads
# AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
_storage = env_str("LEDGER_STORAGE", "local")
if _storage not in {"local", "s3"}:
    raise ImproperlyConfigured(f"LEDGER_STORAGE={_storage!r}: expected local or s3")
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage" if _storage == "s3" else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("LEDGER_MANIFEST_STATIC", default=False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if _storage == "s3":
    AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False  # content-addressed names: never replace a stored file
WHITENOISE_USE_FINDERS = True

# Uploads
LEDGER_MAX_UPLOAD_BYTES = env_int("LEDGER_MAX_UPLOAD_MB", 50) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A run's actual value counts as a deviation when it leaves [min, max]; without a range, when it
# is further than this relative tolerance from the nominal value.
LEDGER_DEFAULT_TOLERANCE = 0.05
# A file claimed by a worker that has not finished after this long is failed (never "running" forever).
LEDGER_ANALYSIS_TIMEOUT_S = env_int("LEDGER_ANALYSIS_TIMEOUT_S", 600)

# Celery: with no broker configured, tasks run in-process (eager) — same code path, no Redis.
_broker = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not _broker
# In eager mode nothing is sent; "memory://" only keeps kombu from warning about a missing host.
CELERY_BROKER_URL = _broker or "memory://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = LEDGER_ANALYSIS_TIMEOUT_S - 30
CELERY_TASK_TIME_LIMIT = LEDGER_ANALYSIS_TIMEOUT_S
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "ledger")
# Celery beat (make worker runs it embedded): files stuck "running" after a hard worker death are failed.
CELERY_BEAT_SCHEDULE = {
    "fail-stale-measurement-files": {"task": "measurements.tasks.fail_stale_measurement_files", "schedule": 300.0},
    "send-due-webhook-deliveries": {"task": "webhooks.tasks.send_due_webhook_deliveries", "schedule": 60.0},
}

# Webhooks: attempts per delivery, backoff base (doubling, capped), and how many deliveries in a
# row may fail every attempt before the hook is disabled.
LEDGER_WEBHOOK_MAX_ATTEMPTS = env_int("LEDGER_WEBHOOK_MAX_ATTEMPTS", 6)
LEDGER_WEBHOOK_BACKOFF_S = env_float("LEDGER_WEBHOOK_BACKOFF_S", 30.0)
LEDGER_WEBHOOK_BACKOFF_MAX_S = env_float("LEDGER_WEBHOOK_BACKOFF_MAX_S", 3600.0)
LEDGER_WEBHOOK_DISABLE_AFTER = env_int("LEDGER_WEBHOOK_DISABLE_AFTER", 5)
LEDGER_WEBHOOK_TIMEOUT_S = env_float("LEDGER_WEBHOOK_TIMEOUT_S", 10.0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"user": env_str("LEDGER_THROTTLE_USER", "1200/min")},
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LEDger API",
    "DESCRIPTION": "Recipes, samples, devices, measurement files and their metrics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set shared by several fields (else the schema has warnings).
    "ENUM_NAME_OVERRIDES": {
        "SampleKindEnum": "samples.models.SampleKind",
        "SampleStatusEnum": "samples.models.SampleStatus",
        "RunStatusEnum": "samples.models.RunStatus",
        "MeasurementKindEnum": "measurements.models.MeasurementKind",
        "FileStatusEnum": "measurements.models.FileStatus",
        "UnitEnum": "core.units.UNIT_CHOICES",
        "WebhookEventEnum": "webhooks.models.Event",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "matplotlib": {"level": "WARNING"}},
}
