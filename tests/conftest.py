"""Shared people and fixtures. Every test module uses these users rather than making its own."""

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

pytest_plugins = ["tests.peers", "tests.azurite"]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple"


def make_user(username, *roles, staff=False):
    user = User.objects.create_user(username, f"{username}@example.test", PASSWORD, is_staff=staff)
    # get_or_create: transactional (browser) tests flush the groups the migration made.
    user.groups.set([Group.objects.get_or_create(name=role)[0] for role in roles])
    return user


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On PostgreSQL the run's test database is named after its process, so two runs on one server (a
    developer's and CI's, or two branches') never drop each other's database."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_{os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def own_azure_budget_file():
    """The run's budget of Azure calls (ascmon/azure/budget.py) has a file of its own: removed after."""
    from django.conf import settings

    yield
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.AZURE_BUDGET_PATH}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def contoso(db):
    """A device named contoso with no subscriptions (tests/factories.py makes others)."""
    from tests import factories

    return factories.device()


@pytest.fixture
def analyst(db):
    return make_user("ana", "analyst")


@pytest.fixture
def customer_success(db):
    return make_user("cuss", "customer_success")


@pytest.fixture
def admin_user(db):
    return make_user("adam", "admin", staff=True)


@pytest.fixture
def outsider(db):
    """Logged in, but holds no ascmon role."""
    return make_user("otto")


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def cs_client(client, customer_success):
    client.force_login(customer_success)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": shutil.which("chromium") or "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }
