"""Encryption keys rotate: a new key goes in front, old secrets still open, one command re-encrypts them
all, a malformed key stops start-up, and a device whose secret no key opens asks for it again."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.urls import reverse

from devices.forms import SECRET_UNREADABLE
from devices.models import Device
from tests import factories
from tests.test_settings import run_check

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TENANT, CLIENT = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"


def test_a_new_key_in_front_still_opens_secrets_stored_with_the_old_one(settings, db):
    settings.ASCMON_ENCRYPTION_KEYS = [OLD]
    device = factories.device(secret="s3cret-under-the-old-key")
    settings.ASCMON_ENCRYPTION_KEYS = [NEW, OLD]
    assert device.tenant().client_secret == "s3cret-under-the-old-key"
    device.set_secret("a-new-secret")
    settings.ASCMON_ENCRYPTION_KEYS = [NEW]
    assert device.tenant().client_secret == "a-new-secret"


def test_reencrypting_lets_the_old_key_go(settings, db, capsys):
    settings.ASCMON_ENCRYPTION_KEYS = [OLD]
    first = factories.device("first", secret="first-secret")
    second = factories.device("second", secret="second-secret")
    settings.ASCMON_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("reencrypt_secrets")
    call_command("reencrypt_secrets")  # twice is fine
    assert "2 device secret(s) re-encrypted" in capsys.readouterr().out
    settings.ASCMON_ENCRYPTION_KEYS = [NEW]
    assert Device.objects.get(pk=first.pk).tenant().client_secret == "first-secret"
    assert Device.objects.get(pk=second.pk).tenant().client_secret == "second-secret"


def test_reencrypting_names_the_devices_no_key_opens(settings, db):
    settings.ASCMON_ENCRYPTION_KEYS = [OLD]
    factories.device("lost", secret="lost-secret")
    settings.ASCMON_ENCRYPTION_KEYS = [NEW]
    factories.device("kept", secret="kept-secret")
    with pytest.raises(CommandError) as caught:
        call_command("reencrypt_secrets")
    assert "1 device secret(s) decrypt with none of the configured keys: lost" in str(caught.value)
    assert Device.objects.get(name="kept").tenant().client_secret == "kept-secret"


def test_a_malformed_key_stops_start_up_and_says_which_one():
    result = run_check(SECRET_KEY="x" * 50, ASCMON_ENCRYPTION_KEYS=f"{NEW},not-a-fernet-key")
    assert result.returncode != 0
    assert "ImproperlyConfigured: ASCMON_ENCRYPTION_KEYS: key 2 of 2 is not a Fernet key" in result.stderr
    assert "not-a-fernet-key" not in result.stderr


def test_a_list_of_keys_starts_production_settings():
    result = run_check(SECRET_KEY="x" * 50, ASCMON_ENCRYPTION_KEYS=f"{NEW}, {OLD}")
    assert result.returncode == 0, result.stderr


def edit_data(**overrides):
    data = {
        "name": "contoso",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "client_secret": "",
        "expected_subscriptions": "",
        "contacts": "",
    }
    return {**data, **overrides}


def test_editing_a_device_whose_secret_no_key_opens_asks_for_the_secret_again(cs_client, settings):
    settings.ASCMON_ENCRYPTION_KEYS = [OLD]
    device = factories.device(tenant_id=TENANT, client_id=CLIENT, secret="lost-secret")
    stored = device.secret_encrypted
    settings.ASCMON_ENCRYPTION_KEYS = [NEW]
    url = reverse("devices:edit", args=[device.pk])

    page = cs_client.get(url)
    assert page.status_code == 200
    assert SECRET_UNREADABLE in page.content.decode()

    kept_blank = cs_client.post(url, edit_data())
    assert kept_blank.status_code == 200
    assert kept_blank.context["form"].errors["client_secret"] == [SECRET_UNREADABLE]
    device.refresh_from_db()
    assert device.secret_encrypted == stored  # nothing saved; entering the secret is the onboarding path
