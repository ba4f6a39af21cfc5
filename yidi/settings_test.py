"""Settings for the test suite: the normal settings with fast hashing and in-memory side effects."""

import os

os.environ.setdefault("YIDI_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("YIDI_SECURE_COOKIES", "0")

from yidi.settings import *  # noqa: F403
from yidi.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; production uses argon2
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in memory
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
AUTH_TRUST_FORCE_LOGIN = True  # `client.force_login` sessions count as two-factor verified in tests

# Every response and log line of the suite is scanned for unmasked ID and phone numbers (`yidi.security.leaks`;
# the root conftest fails the test that produced one).
MIDDLEWARE = ["yidi.security.leaks.LeakScanMiddleware", *MIDDLEWARE]
