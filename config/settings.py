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
# Only for the embedded/dev mode and the tests. The web process refuses to start with it unless
# DEBUG (config/wsgi.py), `check --deploy` reports it (ledger.E001); LEDGER_REQUIRE_SECRET_KEY=true
# refuses it for every command too.
LEDGER_DEV_SECRET_KEY = "ledger-insecure-dev-key-change-me"  # noqa: S105
if not SECRET_KEY:
    if not DEBUG and env_bool("LEDGER_REQUIRE_SECRET_KEY", default=False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    SECRET_KEY = LEDGER_DEV_SECRET_KEY
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
    "insights",
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
# Analysis time limits, all derived from one setting and checked here, at start-up: the hard limit
# kills the task at LEDGER_ANALYSIS_TIMEOUT_S, the soft one lets it fail the file with a reason a
# little before, and a claim older than the hard limit plus a grace is taken over (the worker died).
LEDGER_ANALYSIS_TIMEOUT_S = env_int("LEDGER_ANALYSIS_TIMEOUT_S", 600)
MIN_ANALYSIS_TIMEOUT_S = 10
if LEDGER_ANALYSIS_TIMEOUT_S < MIN_ANALYSIS_TIMEOUT_S:
    raise ImproperlyConfigured(
        f"LEDGER_ANALYSIS_TIMEOUT_S={LEDGER_ANALYSIS_TIMEOUT_S}: an analysis needs at least "
        f"{MIN_ANALYSIS_TIMEOUT_S} s (a J-L-V pair with its plots takes ~1 s; 60–600 is usual)")
LEDGER_ANALYSIS_SOFT_TIMEOUT_S = LEDGER_ANALYSIS_TIMEOUT_S - max(2, min(30, LEDGER_ANALYSIS_TIMEOUT_S // 5))
LEDGER_STALE_CLAIM_S = LEDGER_ANALYSIS_TIMEOUT_S + max(10, min(60, LEDGER_ANALYSIS_TIMEOUT_S // 2))
# A file is started at most this many times (worker killed, out of memory, over the limit), then failed.
LEDGER_MAX_ATTEMPTS = env_int("LEDGER_MAX_ATTEMPTS", 3)
# The sweep (beat) runs this often; a queued file whose message never reached the broker is sent
# again once it is this old.
LEDGER_SWEEP_INTERVAL_S = env_int("LEDGER_SWEEP_INTERVAL_S", 60)
LEDGER_REQUEUE_AFTER_S = env_int("LEDGER_REQUEUE_AFTER_S", 60)
for _name in ("LEDGER_MAX_ATTEMPTS", "LEDGER_SWEEP_INTERVAL_S", "LEDGER_REQUEUE_AFTER_S"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name}={globals()[_name]}: expected a positive integer")
# Memory per worker process: an address-space cap (a numpy allocation past it is a MemoryError and
# the file fails with that reason) and a resident size past which the process is replaced.
LEDGER_WORKER_MEMORY_MB = env_int("LEDGER_WORKER_MEMORY_MB", 4096)
LEDGER_WORKER_MAX_RSS_MB = env_int("LEDGER_WORKER_MAX_RSS_MB", 1024)

# The cache (insights frames, driver tables and their HTML, control charts; throttles). Unset: each
# process keeps its own in memory (make run). A lab sets a Redis shared by every web and worker
# process, so a table the worker computes after a file lands (insights.warming) is the one the
# next page reads, and a gunicorn worker reads what another one computed.
_cache_url = env_str("LEDGER_CACHE_URL")
if _cache_url and not _cache_url.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"LEDGER_CACHE_URL={_cache_url}: expected a Redis URL (redis://host:6379/1)")
# Down or hung, it is a miss, not an error (core.cache). The prefix carries a digest of the code
# whose objects are cached (pickled frames, tables, HTML), so a deploy never reads the last release's.
def code_digest() -> str:
    import hashlib

    digest = hashlib.blake2s(digest_size=4)
    for path in sorted([*BASE_DIR.glob("*/*.py"), *BASE_DIR.glob("*/science/*.py"), *BASE_DIR.glob("templates/**/*.html")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


CACHES = {"default": {
    "BACKEND": "core.cache.TolerantRedisCache", "LOCATION": _cache_url,
    "KEY_PREFIX": f"{env_str('LEDGER_CACHE_PREFIX', 'ledger')}:{code_digest()}",
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 3},
} if _cache_url else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# After a file is analysed, the worker computes the insights pages people opened lately (drivers,
# control, the recipe and home panels), this many seconds later (files landing meanwhile join the
# same pass); 0 turns it off. Needs a broker and LEDGER_CACHE_URL: a worker's own memory is no use
# to the web processes.
LEDGER_INSIGHTS_WARM_S = env_float("LEDGER_INSIGHTS_WARM_S", 20.0)

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
CELERY_TASK_SOFT_TIME_LIMIT = LEDGER_ANALYSIS_SOFT_TIMEOUT_S
CELERY_TASK_TIME_LIMIT = LEDGER_ANALYSIS_TIMEOUT_S
CELERY_WORKER_MAX_MEMORY_PER_CHILD = LEDGER_WORKER_MAX_RSS_MB * 1024  # KiB
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# An unacknowledged message (its worker died) comes back after the visibility timeout: longer than
# any task may run or wait for a retry, so a live task is never delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * LEDGER_STALE_CLAIM_S + 60,
                                   "socket_connect_timeout": 3, "socket_timeout": 10}
# An upload must not hang on a broker that is down: two quick tries, then the outbox (the sweep).
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "ledger")
# Celery beat (make worker runs it embedded): the sweep that re-sends and re-runs what a broker
# outage or a dead worker left behind.
CELERY_BEAT_SCHEDULE = {
    "sweep-measurement-files": {"task": "measurements.tasks.sweep_measurement_files",
                                "schedule": float(LEDGER_SWEEP_INTERVAL_S)},
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
        "core.api.authentication.HashedTokenAuthentication",  # hashed, named, revocable (core.tokens)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.LedgerAutoSchema",
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
        "CalibrationRoleEnum": "measurements.models.CalibrationRole",
        "RoleEnum": "recipes.models.RecipeParameter.Role",
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

# =================================================================================================
# Production (issue 18, and the safe-defaults bullet of issue 13). One block so merges touch one
# place; README "Running it for a lab" documents every variable read here.
# =================================================================================================
INSTALLED_APPS += ["axes", "django_prometheus", "ops"]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "ops.middleware.RequestIdMiddleware",
    "ops.middleware.ProbeMiddleware",  # /healthz, /readyz: before host checks and the HTTPS redirect
    *MIDDLEWARE,
    "axes.middleware.AxesMiddleware",  # turns a locked-out login into the lock-out page
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# Every query counted and timed (django_db_execute_total, django_db_query_duration_seconds) on
# PostgreSQL, the production database. SQLite (dev, the default test run) keeps Django's own engine
# name, which pytest-django needs to give each xdist worker its in-memory database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"

# --- HTTPS (check --deploy: 0 issues with SECRET_KEY and ALLOWED_HOSTS set) -----------------------
# On unless DEBUG: redirect to https, HSTS, cookies only over https. LEDGER_HTTPS=false for a plain
# HTTP listener on loopback (CI, the load benchmark). Tests turn it off in tests/conftest.py.
LEDGER_HTTPS = env_bool("LEDGER_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = LEDGER_HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LEDGER_HTTPS
SECURE_HSTS_SECONDS = env_int("LEDGER_HSTS_SECONDS", 31_536_000) if LEDGER_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("LEDGER_HSTS_INCLUDE_SUBDOMAINS", default=True)
# The preload directive does nothing until someone submits the domain to the browsers' list.
SECURE_HSTS_PRELOAD = env_bool("LEDGER_HSTS_PRELOAD", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics$"]  # probes and scrapers speak plain HTTP inside
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto (only then — a client could send it).
if env_bool("LEDGER_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = env_int("LEDGER_SESSION_HOURS", 12) * 3600

# --- Login throttling (django-axes): per username + IP, with a lock-out page -----------------------
AXES_FAILURE_LIMIT = env_int("LEDGER_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LEDGER_LOGIN_COOLOFF_MIN", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one person's typos never lock the whole lab out
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# The client's address: the proxy's X-Forwarded-For only behind one (else anyone could send a new
# address with each guess and never be locked out).
if env_bool("LEDGER_BEHIND_PROXY", default=False):
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# --- Sign-in: local accounts always (instruments), plus OIDC and/or LDAP when configured -----------
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend"]  # first: refuses while locked out
from .signin import configure_signin  # noqa: E402 — reads LEDGER_OIDC_* / LEDGER_LDAP_* from the environment

globals().update(configure_signin(AUTHENTICATION_BACKENDS))

# --- Probes and metrics ---------------------------------------------------------------------------
LEDGER_READYZ_TIMEOUT_S = float(env_int("LEDGER_READYZ_TIMEOUT_MS", 1000)) / 1000  # broker and worker answers
LEDGER_METRICS_TOKEN = env_str("LEDGER_METRICS_TOKEN")  # unset: /metrics answers loopback only
PROMETHEUS_EXPORT_MIGRATIONS = False  # /readyz reports migrations; no DB query at import time
if env_str("PROMETHEUS_MULTIPROC_DIR"):  # gunicorn workers share counters through files here
    Path(env_str("PROMETHEUS_MULTIPROC_DIR")).mkdir(parents=True, exist_ok=True)

# --- Logs: one JSON object per line (text with DEBUG), every line with the request id --------------
LEDGER_LOG_FORMAT = env_str("LEDGER_LOG_FORMAT", "text" if DEBUG else "json")
if LEDGER_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LEDGER_LOG_FORMAT={LEDGER_LOG_FORMAT!r}: expected json or text")
LOGGING["filters"] = {"request_id": {"()": "ops.request_id.RequestIdFilter"}}
LOGGING["formatters"] = {
    "json": {"()": "pythonjsonlogger.json.JsonFormatter",
             "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
             "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
}
LOGGING["handlers"]["console"].update(filters=["request_id"], formatter=LEDGER_LOG_FORMAT)
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # its start-up banner on every command
TEMPLATES[0]["OPTIONS"]["context_processors"].append("ops.context_processors.signin")  # SSO button on the login page
INSTALLED_APPS += ["mozilla_django_oidc"]
