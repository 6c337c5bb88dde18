"""Settings for the test suite: the production settings with tasks run inline and fast hashing."""

import os
import tempfile

os.environ.setdefault("ASCMON_DEBUG", "1")
os.environ.setdefault("ASCMON_Q_SYNC", "1")
# A budget of Azure calls no test runs into unless it means to; each run (and the processes its tests
# start, which inherit these) has its own, since another run may share the machine and Redis.
os.environ.setdefault("ASCMON_AZURE_CALLS_PER_SECOND", "10000")
os.environ.setdefault(
    "ASCMON_AZURE_BUDGET_PATH", f"{tempfile.gettempdir()}/ascmon-test-budget-{os.getpid()}.sqlite3"
)
os.environ.setdefault("ASCMON_AZURE_BUDGET_PREFIX", f"ascmon-test-{os.getpid()}:budget:")

from ascmon.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
Q_CLUSTER["sync"] = True  # noqa: F405
AZURE_RETRY_TOTAL = 1
STORAGE_HOST_SUFFIXES = [*STORAGE_HOST_SUFFIXES, "127.0.0.1"]  # noqa: F405  (Azurite)
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # noqa: F405
    # One test database per run, so two runs on one server (CI and a developer) never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_ascmon_{os.getpid()}"}  # noqa: F405
