"""yidi settings: everything that differs between deployments comes from the environment.

Every variable read here is listed, with its default, in `.env.example`.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from yidi.core.crypto import parse_key_ring

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None


def env_secret(name: str, default: str = "") -> str:
    """A secret from `NAME_FILE` (a path, wins) or `NAME`."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {error}") from None
    return os.environ.get(name, default)


DEBUG = env_bool("YIDI_DEBUG", False)
DATA_DIR = Path(env("YIDI_DATA_DIR", str(BASE_DIR / "var"))).resolve()

INSECURE_DEFAULT_SECRET_KEY = "insecure-development-key-change-me"
SECRET_KEY = env_secret("YIDI_SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
# Production (DEBUG off) refuses the development key; the demo and the tests set YIDI_ALLOW_INSECURE_KEY.
if SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY and not DEBUG and not env_bool("YIDI_ALLOW_INSECURE_KEY"):
    raise ImproperlyConfigured(
        "YIDI_SECRET_KEY is not set. Set it (or YIDI_SECRET_KEY_FILE) to a long random value; "
        "`yidi demo` sets YIDI_ALLOW_INSECURE_KEY=1 for local demonstrations only."
    )
# Keyed hashes of personal identifiers (person index look-ups) use their own key.
PERSONAL_DATA_HASH_KEY = env_secret("YIDI_PERSONAL_DATA_HASH_KEY", SECRET_KEY)
# The audit log's hash chain and its checkpoints outside the database (docs/security.md).
AUDIT_HMAC_KEY = env_secret("YIDI_AUDIT_KEY", SECRET_KEY)
AUDIT_HMAC_RETIRED_KEYS = env_secret("YIDI_AUDIT_RETIRED_KEYS").split()  # earlier secrets; _FILE: one per line
AUDIT_CHAINS = env_int("YIDI_AUDIT_CHAINS", 4)  # parallel chains on PostgreSQL, so writers do not queue
AUDIT_CHECKPOINT_DIR = Path(env("YIDI_AUDIT_CHECKPOINT_DIR", str(DATA_DIR / "audit-checkpoints")))
# Field encryption of ID numbers, phones and addresses (docs/crypto.md).
FIELD_CIPHER = env("YIDI_FIELD_CIPHER", "aes-gcm")  # or "sm4-gcm" (国密)
_field_keys = env_secret("YIDI_FIELD_KEYS")
FIELD_ENCRYPTION_KEYS = parse_key_ring(_field_keys) if _field_keys.strip() else {}  # empty = development key
if not FIELD_ENCRYPTION_KEYS and not DEBUG and not env_bool("YIDI_ALLOW_INSECURE_KEY"):
    raise ImproperlyConfigured("YIDI_FIELD_KEYS is not set; see docs/crypto.md")

# Personal data (docs/privacy.md): reveals per person per hour; approved exports' validity and downloads.
PRIVACY_REVEAL_LIMIT_PER_HOUR = env_int("YIDI_REVEAL_LIMIT_PER_HOUR", 30)
PRIVACY_EXPORT_VALID_HOURS = env_int("YIDI_EXPORT_VALID_HOURS", 24)
PRIVACY_EXPORT_MAX_DOWNLOADS = env_int("YIDI_EXPORT_MAX_DOWNLOADS", 3)
PRIVACY_EXPORT_MAX_CASES = env_int("YIDI_EXPORT_MAX_CASES", 2000)

ALLOWED_HOSTS = [h.strip() for h in env("YIDI_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("YIDI_CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]

CENTRE_NAME = env("YIDI_CENTRE_NAME", "社会矛盾纠纷调处化解中心")
# The county this instance serves (national statistical code); case codes start with it.
COUNTY_CODE = env("YIDI_COUNTY_CODE", "330681")
# The unit the citizen portal registers matters for (a unit code); empty: the one active centre unit.
YIDI_PORTAL_UNIT = env("YIDI_PORTAL_UNIT", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_tasks_db",
    "ninja",  # the API docs page renders its own static Swagger UI files (no CDN)
    "yidi.core",
    "yidi.regions",
    "yidi.audit",
    "yidi.integrations",
    "yidi.accounts",
    "yidi.triage",
    "yidi.routing",
    "yidi.cases",
    "yidi.mediation",
    "yidi.notify",
    "yidi.webhooks",
    "yidi.evaluation",
    "yidi.portal",
    "yidi.hotline",
    "yidi.open311",
    "yidi.grid",
    "yidi.workflow",
    "yidi.court",
    "yidi.linkage",
    "yidi.analytics",
    "yidi.supervision",
    "yidi.campaigns",
    "yidi.backup",
    "yidi.privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yidi.core.request_context.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "yidi.accounts.middleware.LoginPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "yidi.urls"
FORM_RENDERER = "yidi.core.forms.YidiFormRenderer"
WSGI_APPLICATION = "yidi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yidi.core.context_processors.site",
            ],
            # `|mask_personal` and `|elided_pages` in every template
            "builtins": ["yidi.core.templatetags.masking", "yidi.core.templatetags.pagination"],
        },
    },
]

SQLITE_OPTIONS = {
    # WAL lets readers work while one writer commits; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue instead of failing half-way with "database is locked".
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    # health checks: a connection kept open across a database restart is replaced, not failed with a 500
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("YIDI_DB_CONN_MAX_AGE", 60),
                                                  conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "yidi.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
# A read replica (docs/scaling.md): the pages marked with `yidi.core.db_router.reading_from_replica()` (dashboards,
# KPI pages, rankings, exports, the implementation report) read from it outside write transactions; writes and
# everything else stay on `default`. Unreachable: a warning, then the primary for YIDI_REPLICA_RETRY_SECONDS.
REPLICA_DATABASE_URL = env("YIDI_REPLICA_DATABASE_URL")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = dj_database_url.parse(
        REPLICA_DATABASE_URL, conn_max_age=env_int("YIDI_DB_CONN_MAX_AGE", 60), conn_health_checks=True)
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("YIDI_REPLICA_CONNECT_TIMEOUT", 2)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # the test suite has one database
# PostgreSQL's JIT compiles a query the planner guesses is costly: 80-90 ms of compiling for list and count
# queries that run in 100-300 ms at a million matters, and no gain measured on the KPI pages (docs/scaling.md).
# Off for yidi's connections unless YIDI_PG_JIT=1.
YIDI_PG_JIT = env_bool("YIDI_PG_JIT", False)
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql" and not YIDI_PG_JIT:
        _options = _database.setdefault("OPTIONS", {})
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DATABASE_ROUTERS = ["yidi.core.db_router.ReplicaRouter"]
YIDI_REPLICA_RETRY_SECONDS = env_int("YIDI_REPLICA_RETRY_SECONDS", 30)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workbench"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "yidi.accounts.hashers.BoundedArgon2PasswordHasher",  # Argon2id, fixed costs (docs/decisions/0004)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ["username", "display_name", "email"]}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "yidi.accounts.auth.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "yidi.accounts.auth.BlocklistValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Log-in hardening (docs/authentication.md).
AUTH_LOCKOUT_FAILURES = env_int("YIDI_LOCKOUT_FAILURES", 5)
AUTH_LOCKOUT_MINUTES = env_int("YIDI_LOCKOUT_MINUTES", 30)
AUTH_LOCKOUT_SOURCE_FAILURES = env_int("YIDI_LOCKOUT_SOURCE_FAILURES", 20)
AUTH_LOGIN_RATE_PER_MINUTE = env_int("YIDI_LOGIN_RATE_PER_MINUTE", 20)
AUTH_SESSION_ABSOLUTE_SECONDS = env_int("YIDI_SESSION_ABSOLUTE_SECONDS", 12 * 3600)
AUTH_PASSWORD_MAX_AGE_DAYS = env_int("YIDI_PASSWORD_MAX_AGE_DAYS", 90)  # 0 = never
AUTH_INACTIVE_ACCOUNT_DAYS = env_int("YIDI_INACTIVE_ACCOUNT_DAYS", 90)  # 0 = never
AUTH_TWO_FACTOR_EXTRA_ROLES = [r.strip() for r in env("YIDI_TWO_FACTOR_EXTRA_ROLES").split(",") if r.strip()]
AUTH_PASSWORD_BLOCKLIST = [w.strip() for w in env("YIDI_PASSWORD_BLOCKLIST").split(",") if w.strip()]
AUTH_TRUST_FORCE_LOGIN = False  # tests only; `check --deploy` fails if True
# Sensitive actions (revealing, exporting personal data, binding an authenticator) need the password entered
# within this many seconds (AUTH-09; docs/authentication.md).
AUTH_REAUTH_SECONDS = env_int("YIDI_REAUTH_SECONDS", 5 * 60)

SESSION_COOKIE_AGE = env_int("YIDI_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # the cookie age is an idle timeout
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("YIDI_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# HTTPS: HSTS for a year wherever cookies are secure (the browser then never tries plain HTTP again);
# behind a TLS-terminating proxy, set YIDI_BEHIND_TLS_PROXY=1 so Django knows the request was HTTPS.
SECURE_HSTS_SECONDS = env_int("YIDI_HSTS_SECONDS", 365 * 24 * 3600 if SECURE_COOKIES else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_SSL_REDIRECT = env_bool("YIDI_SSL_REDIRECT", False)
if env_bool("YIDI_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every script and style is a vendored static file, so the policy allows nothing else.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
# Attachments: the largest accepted file, in bytes.
ATTACHMENT_MAX_BYTES = env_int("YIDI_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": env("YIDI_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Outbound messages (`yidi.integrations`): a transport per kind, `kind=dotted.path` separated by commas (kinds not
# named keep the defaults: sms → log only, email → Django mail, site → nothing to send), and the attempts before
# a message is finally failed.
YIDI_OUTBOX_TRANSPORTS = dict(
    item.strip().split("=", 1) for item in env("YIDI_OUTBOX_TRANSPORTS").split(",") if "=" in item
)
YIDI_OUTBOX_MAX_ATTEMPTS = env_int("YIDI_OUTBOX_MAX_ATTEMPTS", 6)
# How long a claimed message is leased to its worker: one that dies while sending leaves it to be sent again after
# this (longer than any transport's time-out).
YIDI_OUTBOX_LEASE_SECONDS = env_int("YIDI_OUTBOX_LEASE_SECONDS", 600)
# Requests per minute per API client (0: no limit); `YIDI_API_CLIENT_RATES` in code for per-client rates.
YIDI_API_RATE_PER_MINUTE = env_int("YIDI_API_RATE_PER_MINUTE", 600)
# POST /api/v1/cases: registrations arriving together in one process are written in one transaction (group
# commit, `yidi.cases.api_create`); off: each on its own.
YIDI_API_GROUP_COMMIT = env_bool("YIDI_API_GROUP_COMMIT", True)
# How many password hashes one server process computes at once (each takes 46 MiB and one core for ~50 ms)
YIDI_PASSWORD_HASH_SLOTS = env_int("YIDI_PASSWORD_HASH_SLOTS", 2)
# Backups (docs/backup.md): where `backup` writes archives (default DATA_DIR/backups), and the folder of
# pg_dump/pg_restore/psql when those on PATH are of another major version than the server.
YIDI_BACKUP_DIR = env("YIDI_BACKUP_DIR")
YIDI_BACKUP_PG_BIN_DIR = env("YIDI_BACKUP_PG_BIN_DIR")
# Dashboards (`yidi.analytics`): seconds a page's figures are cached; rows an export may hold; the daily roll-up's
# refresh age and the number of changed matters over which a refresh rebuilds every day.
YIDI_DASHBOARD_CACHE_SECONDS = env_int("YIDI_DASHBOARD_CACHE_SECONDS", 60)
YIDI_ANALYTICS_EXPORT_MAX_ROWS = env_int("YIDI_ANALYTICS_EXPORT_MAX_ROWS", 50_000)
YIDI_ANALYTICS_ROLLUP_MAX_AGE_SECONDS = env_int("YIDI_ANALYTICS_ROLLUP_MAX_AGE_SECONDS", 600)
YIDI_ANALYTICS_ROLLUP_REBUILD_OVER = env_int("YIDI_ANALYTICS_ROLLUP_REBUILD_OVER", 20_000)
# Largest township map (GeoJSON) an admin may upload, in bytes.
YIDI_REGION_MAP_MAX_BYTES = env_int("YIDI_REGION_MAP_MAX_BYTES", 5 * 1024 * 1024)
# 12345 import: rows per batch (one transaction each), and processes that triage the next batch while one is written (0: in-process).
YIDI_HOTLINE_BATCH_ROWS = env_int("YIDI_HOTLINE_BATCH_ROWS", 500)
YIDI_HOTLINE_TRIAGE_WORKERS = env_int("YIDI_HOTLINE_TRIAGE_WORKERS", 1)
# API sync cursor: rows changed in the last N seconds are left for the next page (commits still in flight).
YIDI_API_SYNC_SETTLE_SECONDS = env_int("YIDI_API_SYNC_SETTLE_SECONDS", 2)
# The public address of this instance, for links in messages to citizens (the portal is at /p/).
YIDI_PUBLIC_BASE_URL = env("YIDI_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# Evaluation and return visits (`yidi.evaluation`): how long after the result the person may evaluate online;
# how many 不满意 reopen a matter by themselves before the supervisor decides; when a visit that found remaining
# risk is followed up.
YIDI_EVALUATION_WINDOW_DAYS = env_int("YIDI_EVALUATION_WINDOW_DAYS", 30)
YIDI_EVALUATION_MAX_AUTO_REOPENS = env_int("YIDI_EVALUATION_MAX_AUTO_REOPENS", 2)
YIDI_RISK_FOLLOW_UP_DAYS = env_int("YIDI_RISK_FOLLOW_UP_DAYS", 7)
# The demo shows the development SMS sender's verification codes on the page (never in production).
YIDI_DEMO_SHOW_CODES = env_bool("YIDI_DEMO_SHOW_CODES") and env_bool("YIDI_ALLOW_INSECURE_KEY")
# E-mail (outbox kind "email"); every connection has a time-out.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env("YIDI_EMAIL_HOST", "localhost"),
            "port": env_int("YIDI_EMAIL_PORT", 25),
            "username": env("YIDI_EMAIL_USER"),
            "password": env_secret("YIDI_EMAIL_PASSWORD"),
            "use_tls": env_bool("YIDI_EMAIL_USE_TLS", False),
            "timeout": env_int("YIDI_EMAIL_TIMEOUT", 10),
        },
    }
}
DEFAULT_FROM_EMAIL = env("YIDI_EMAIL_FROM", "webmaster@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # waitress warns once per request queued behind busy threads: one line each 10 s says the same
    "filters": {"every_10_s": {"()": "yidi.core.logs.EverySoOften", "seconds": 10}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("YIDI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "waitress.queue": {"filters": ["every_10_s"]}},
}
