"""The front door: wrong passwords are throttled, sessions end, weak passwords are refused, and Django's
deployment checks pass with production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def log_in(client, username, password, address="203.0.113.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(client, analyst, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert "didn't match" in log_in(client, "ana", "wrong password").content.decode()
    assert log_in(client, "ana", "wrong password").status_code == 429
    response = log_in(client, "ana", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_admin_lifts_a_lockout_in_the_admin(client, analyst, admin_user, settings):
    from axes.models import AccessAttempt
    from django.test import Client

    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "ana", "wrong password")
    admin = Client()
    admin.force_login(admin_user)
    assert "ana" in admin.get("/admin/axes/accessattempt/").content.decode()
    attempt = AccessAttempt.objects.get(username="ana")
    lifted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert lifted.status_code == 302
    assert log_in(client, "ana", PASSWORD).status_code == 302


def test_a_locked_out_username_still_logs_in_from_another_address(client, analyst, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "ana", "wrong password")
    response = log_in(client, "ana", PASSWORD, address="198.51.100.20")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(analyst.pk)


def test_a_successful_login_forgets_earlier_mistakes(client, analyst, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "ana", "wrong password")
    assert log_in(client, "ana", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "ana", "wrong password")
    assert log_in(client, "ana", PASSWORD).status_code == 302


def test_behind_the_proxy_failures_count_against_the_address_the_proxy_saw(client, analyst, settings):
    settings.BEHIND_PROXY = True
    proxy = "10.0.0.2"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": "ana", "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9",
        )
    locked = client.post(
        reverse("login"), {"username": "ana", "password": PASSWORD}, REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="5.6.7.8, 203.0.113.9",
    )  # fmt: skip
    assert locked.status_code == 429  # a forged first entry does not escape the count
    other = client.post(
        reverse("login"), {"username": "ana", "password": PASSWORD}, REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )  # fmt: skip
    assert other.status_code == 302  # colleagues behind the same proxy are not locked out


def test_a_session_lasts_a_working_day_not_two_weeks(client, analyst):
    response = log_in(client, "ana", PASSWORD)
    assert response.cookies["sessionid"]["max-age"] == 12 * 3600


@pytest.mark.parametrize("password", ["short1!", "password1234", "12345678901234", "ana.analyst.example"])
def test_weak_passwords_are_refused(analyst, password):
    analyst.first_name, analyst.last_name = "Ana", "Analyst"
    with pytest.raises(ValidationError):
        validate_password(password, analyst)


def production_environment(**extra):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ASCMON_", "SECRET_KEY", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    clean.update(
        SECRET_KEY=Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        ASCMON_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="ascmon.example.com",
        ASCMON_BEHIND_PROXY="1",
        **extra,
    )
    return clean


def test_django_deployment_checks_pass_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
