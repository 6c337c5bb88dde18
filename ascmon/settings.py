"""ascmon settings, read from the environment.

Every value comes from an environment variable through the helpers below. A required value that is
missing stops start-up with ImproperlyConfigured naming the variable. `ASCMON_DEBUG=1` (set by the demo
and the tests) relaxes the secrets to fixed development values.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_float(name, default):
    return float(env(name, str(default)))


DEBUG = env_bool("ASCMON_DEBUG")
DEMO = env_bool("ASCMON_DEMO")


def required(name, dev_default):
    """A secret that production must set; debug and demo runs fall back to a fixed value."""
    value = env(name)
    if value:
        return value
    if DEBUG or DEMO:
        return dev_default
    raise ImproperlyConfigured(f"Set the environment variable {name} (required when ASCMON_DEBUG is off).")


def fernet_keys(dev_default):
    """The Fernet keys that encrypt device client secrets at rest, newest first.

    ASCMON_ENCRYPTION_KEYS lists them (comma-separated): the first encrypts, every one decrypts, so a new
    key goes in front and the old one stays until `manage.py reencrypt_secrets` has run. A single
    ASCMON_ENCRYPTION_KEY is a list of one. A key that is not a Fernet key stops start-up here, not at the
    first device that needs it."""
    from cryptography.fernet import Fernet

    source = "ASCMON_ENCRYPTION_KEYS" if env("ASCMON_ENCRYPTION_KEYS") else "ASCMON_ENCRYPTION_KEY"
    keys = [key.strip() for key in (env(source) or "").split(",") if key.strip()]
    if not keys and (DEBUG or DEMO):
        keys = [dev_default]
    if not keys:
        raise ImproperlyConfigured(
            "Set the environment variable ASCMON_ENCRYPTION_KEYS (Fernet keys, newest first) or "
            "ASCMON_ENCRYPTION_KEY (one key); required when ASCMON_DEBUG is off."
        )
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:  # binascii.Error too; the message never shows the key
            raise ImproperlyConfigured(
                f"{source}: key {number} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded "
                "bytes, e.g. from cryptography.fernet.Fernet.generate_key())."
            ) from None
    return keys


SECRET_KEY = required("SECRET_KEY", "ascmon-development-only-not-secret")
ASCMON_ENCRYPTION_KEYS = fernet_keys("YXNjbW9uLWRldmVsb3BtZW50LWtleS1ub3QtcHJvZCE=")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEBUG or DEMO) else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "ascmon",
    "devices",
    "alerts",
    "storage_logs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Production serves its collected static files itself (hashed names, compressed, cached for a year).
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ascmon.urls"

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
                "ascmon.context_processors.navigation",
                "csp.context_processors.nonce",
            ],
        },
    },
]

WSGI_APPLICATION = "ascmon.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while qcluster workers write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
CSRF_FAILURE_VIEW = "ascmon.views.csrf_failure"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# ---- The front door: passwords, sessions, login throttling, TLS, Content-Security-Policy -------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A session lasts a working day from login, then asks for the password again.
SESSION_COOKIE_AGE = int(env("ASCMON_SESSION_HOURS", "12")) * 3600

# django-axes: after ASCMON_LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that
# pair is refused (429) for ASCMON_LOGIN_COOLOFF_MINUTES; a successful login resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("ASCMON_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("ASCMON_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "ascmon.front_door.locked_out"
AXES_CLIENT_IP_CALLABLE = "ascmon.front_door.client_ip"
AXES_VERBOSE = False

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and appends the client to X-Forwarded-For).
BEHIND_PROXY = env_bool("ASCMON_BEHIND_PROXY")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not (DEBUG or DEMO):
    # Production speaks HTTPS only: plain HTTP is redirected (except the proxy's liveness probe), browsers
    # are told to stay on HTTPS, and cookies never travel in clear.
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(env("ASCMON_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ASCMON_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("ASCMON_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Scripts and styles come from our own static files, or carry the page's nonce; nothing inline otherwise.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("ASCMON_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
if not DEBUG:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "ascmon.staticfinders.PlotlyFinder",
]

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "ascmon@localhost")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))

# Azure endpoints. Empty in production (the SDK defaults apply); the simulator sets them.
AZURE_MANAGEMENT_URL = env("AZURE_MANAGEMENT_URL", "")
AZURE_AUTHORITY_HOST = env("AZURE_AUTHORITY_HOST", "")
AZURE_CA_BUNDLE = env("AZURE_CA_BUNDLE", "")
# Blob endpoints reported by ARM are contacted only under these host suffixes (ascmon/azure/endpoints.py):
# Azure public, China, US Government, and the DNS-zone endpoints (<account>.zNN.blob.storage.azure.net).
STORAGE_HOST_SUFFIXES = env_list(
    "ASCMON_STORAGE_HOST_SUFFIXES",
    "blob.core.windows.net,blob.core.chinacloudapi.cn,blob.core.usgovcloudapi.net,blob.storage.azure.net",
)
# Retries the Azure SDK makes itself before an error reaches ascmon (429 honours Retry-After).
AZURE_RETRY_TOTAL = int(env("AZURE_RETRY_TOTAL", "4"))
# Each tenant's budget of Azure calls (ARM and blob requests together), shared by every process: in
# Redis when REDIS_URL is set, else in a SQLite file of the machine (ascmon/azure/budget.py). A worker
# waits at most AZURE_MAX_WAIT_SECONDS for the budget or a 429's Retry-After, then hands back Throttled.
AZURE_CALLS_PER_SECOND = int(env("ASCMON_AZURE_CALLS_PER_SECOND", "20"))
AZURE_MAX_WAIT_SECONDS = float(env("ASCMON_AZURE_MAX_WAIT_SECONDS", "60"))
AZURE_BUDGET_PATH = Path(env("ASCMON_AZURE_BUDGET_PATH", str(BASE_DIR / "var" / "azure-budget.sqlite3")))
AZURE_BUDGET_PREFIX = env("ASCMON_AZURE_BUDGET_PREFIX", "ascmon:budget:")

# Cost page conventions (docs/log-pricing.md). Prices live in the price book (admin site); this price seeds
# its first Analytics price and stands in while the book has none. Microsoft bills GB of 10^9 bytes:
# 1000 MB of 10^6 bytes (1024 means MB of 2^20 bytes, as the seed's table counted).
LOG_ANALYTICS_PRICE_PER_GB = env_float("LOG_ANALYTICS_PRICE_PER_GB", 2.30)
LOG_ANALYTICS_MB_PER_GB = env_float("LOG_ANALYTICS_MB_PER_GB", 1000)
LOG_ANALYTICS_DAYS_PER_YEAR = env_float("LOG_ANALYTICS_DAYS_PER_YEAR", 365)

# Storage log ingestion (storage_logs/tasks.py, ingest.py). A batch is stored once this many aggregates are
# open or this many bytes were read (memory stays bounded; a bigger batch writes each aggregate fewer times).
STORAGE_LOGS_BATCH_GROUPS = int(env("ASCMON_INGEST_BATCH_GROUPS", "200000"))
STORAGE_LOGS_BATCH_BYTES = int(env("ASCMON_INGEST_BATCH_BYTES", str(512 * 1024 * 1024)))
# Blobs of one account-hour downloaded at once: one stream through the SDK is slower than the engine
STORAGE_LOGS_DOWNLOAD_STREAMS = int(env("ASCMON_INGEST_DOWNLOAD_STREAMS", "2"))
# A task reads an account's due hours of one UTC day, up to this many: one listing per container serves
# them, and their lines share batches (an hour of a quiet account costs round trips, not lines)
STORAGE_LOGS_SPAN_HOURS = int(env("ASCMON_INGEST_SPAN_HOURS", "24"))
# Two workers on one hour take turns storing its batches; each turn the other one reads on from there.
STORAGE_LOGS_CONFLICT_RETRIES = int(env("ASCMON_INGEST_CONFLICT_RETRIES", "200"))
# Request digests of counted lines are kept this long: repeats and rewritten blobs are told by them.
STORAGE_LOGS_DIGEST_RETENTION = timedelta(hours=int(env("ASCMON_INGEST_DIGEST_HOURS", "48")))
# A new account's logs are read this far back; after an outage, hours are read back to this limit at most.
STORAGE_LOGS_FIRST_LOOKBACK = timedelta(hours=int(env("ASCMON_INGEST_FIRST_HOURS", "24")))
STORAGE_LOGS_MAX_BACKFILL = timedelta(days=int(env("ASCMON_INGEST_BACKFILL_DAYS", "7")))
# A queued run whose task never started, or a running one that stored nothing for this long, was lost.
STORAGE_LOGS_QUEUE_TIMEOUT = timedelta(minutes=float(env("ASCMON_INGEST_QUEUE_TIMEOUT_MINUTES", "60")))
STORAGE_LOGS_RUN_TIMEOUT = timedelta(minutes=float(env("ASCMON_INGEST_RUN_TIMEOUT_MINUTES", "20")))
# An hour read this recently is not queued again by the next sweep.
STORAGE_LOGS_RECHECK = timedelta(minutes=float(env("ASCMON_INGEST_RECHECK_MINUTES", "10")))
# A "log hours lost" finding stays open this long after the last hour was lost.
STORAGE_LOGS_LOST_WINDOW = timedelta(days=7)

# Decision support: how far back "usual" behaviour reaches.
BASELINE_DAYS = int(env("ASCMON_BASELINE_DAYS", "14"))
# How far back the SOC investigates: raw log lines kept for fewer days than this are a finding.
EVIDENCE_DAYS = int(env("ASCMON_EVIDENCE_DAYS", "30"))
# A device whose last successful sync is older than this is reported stale.
STALE_AFTER_MINUTES = int(env("ASCMON_STALE_AFTER_MINUTES", "60"))

REDIS_URL = env("REDIS_URL", "")
Q_CLUSTER = {
    "name": "ascmon",
    "workers": int(env("ASCMON_Q_WORKERS", "2")),
    "timeout": int(env("ASCMON_Q_TIMEOUT", "600")),
    "retry": int(env("ASCMON_Q_RETRY", "720")),
    "max_attempts": 3,
    "save_limit": 1000,
    "catch_up": False,
    "label": "Background tasks",
    "sync": env_bool("ASCMON_Q_SYNC"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("ASCMON_LOG_LEVEL", "INFO")},
    "loggers": {
        # One INFO line per queued task is noise in the demo and the tests.
        "django-q": {"level": env("ASCMON_Q_LOG_LEVEL", "WARNING")},
        "azure": {"level": "WARNING"},
        # Lockouts and repeated failures are worth a line; every single failed login is not.
        "axes": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
    },
}
