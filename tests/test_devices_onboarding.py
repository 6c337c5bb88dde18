"""Onboarding checks the credentials before saving; the secret is write-only everywhere."""

import logging
import sys

import pytest
from django.core.signals import got_request_exception
from django.urls import reverse
from django.views.debug import ExceptionReporter

from devices import inventory, tasks
from devices.models import Device, InventoryRun
from devices.onboarding import OnboardingRejected, onboard_demo_device
from tests.devices_fake import CLIENT, DEV, PROD, SECRET, TENANT, FakeAzure


@pytest.fixture
def fake(monkeypatch):
    fake = FakeAzure()
    monkeypatch.setattr(inventory, "wrappers", fake)
    monkeypatch.setattr(tasks, "FOLLOW_UPS", ())
    return fake


def form_data(**overrides):
    data = {
        "name": "Contoso",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "client_secret": SECRET,
        "expected_subscriptions": f"{PROD}\n{DEV}",
        "contacts": "soc@contoso.example",
    }
    return {**data, **overrides}


def test_customer_success_onboards_a_device_and_its_first_inventory_runs(fake, cs_client):
    response = cs_client.post(reverse("devices:add"), form_data())
    device = Device.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("devices:detail", args=[device.pk])
    assert device.expected_subscriptions == [PROD, DEV]
    assert InventoryRun.objects.filter(device=device, outcome="success").count() == 1
    assert device.findings.open().exists()


def test_a_wrong_secret_is_rejected_with_a_message_about_the_secret(fake, cs_client):
    response = cs_client.post(reverse("devices:add"), form_data(client_secret="not-it"))
    assert response.status_code == 200
    assert "rejected the client secret" in response.context["form"].errors["client_secret"][0]
    assert not Device.objects.exists()


def test_a_wrong_tenant_is_rejected_with_a_message_about_the_tenant(fake, cs_client):
    other = "99999999-2222-3333-4444-555555555555"
    response = cs_client.post(reverse("devices:add"), form_data(tenant_id=other))
    assert "does not know this tenant" in response.context["form"].errors["tenant_id"][0]
    assert not Device.objects.exists()


def test_credentials_that_see_no_subscription_are_rejected(fake, cs_client):
    fake.state["subscriptions"] = []
    response = cs_client.post(reverse("devices:add"), form_data())
    assert "sees no subscription" in response.context["form"].non_field_errors()[0]
    assert not Device.objects.exists()


def test_the_secret_is_stored_encrypted(fake, cs_client):
    cs_client.post(reverse("devices:add"), form_data())
    device = Device.objects.get()
    assert SECRET not in device.secret_encrypted
    assert device.tenant().client_secret == SECRET


def test_analysts_cannot_onboard_devices(fake, analyst_client):
    assert analyst_client.get(reverse("devices:add")).status_code == 403
    assert analyst_client.post(reverse("devices:add"), form_data()).status_code == 403
    assert not Device.objects.exists()


def test_the_secret_never_appears_in_any_page_log_line_error_or_the_admin(fake, client, admin_user, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(admin_user)
    pages = [client.post(reverse("devices:add"), form_data(client_secret=SECRET + "x"))]
    pages.append(client.post(reverse("devices:add"), form_data(), follow=True))
    device = Device.objects.get()
    fake.identity = (TENANT, CLIENT, "rotated")
    tasks.run_inventory(device.id)
    for url in (
        reverse("devices:list"),
        reverse("devices:detail", args=[device.pk]),
        reverse("devices:edit", args=[device.pk]),
        reverse("devices:notifications"),
        reverse("admin:devices_device_changelist"),
        reverse("admin:devices_device_change", args=[device.pk]),
        reverse("admin:devices_inventoryrun_changelist"),
        reverse("admin:devices_finding_changelist"),
    ):
        pages.append(client.get(url))
    run = InventoryRun.objects.first()
    pages.append(client.get(reverse("admin:devices_inventoryrun_change", args=[run.pk])))
    for page in pages:
        assert page.status_code == 200
        assert SECRET not in page.content.decode()
    assert SECRET not in caplog.text
    assert SECRET not in str(list(InventoryRun.objects.values_list("errors", flat=True)))
    assert SECRET not in str(
        list(device.findings.values("title", "explanation", "portal_steps", "cli_command"))
    )
    assert SECRET not in repr(device.tenant())


def test_the_admin_sets_a_new_secret_without_showing_the_old_one(fake, admin_client_, db):
    url = reverse("admin:devices_device_add")
    data = {
        "name": "Fabrikam",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "client_secret": SECRET,
        "expected_subscriptions": "[]",
        "contacts": "",
        "is_active": "on",
    }
    assert admin_client_.post(url, data).status_code == 302
    device = Device.objects.get(name="Fabrikam")
    assert device.tenant().client_secret == SECRET
    data["client_secret"] = ""
    admin_client_.post(reverse("admin:devices_device_change", args=[device.pk]), data)
    device.refresh_from_db()
    assert device.tenant().client_secret == SECRET


def test_the_demo_tenant_is_onboarded_through_the_form_and_twice_is_fine(fake, db):
    tenant = {
        "name": "Demo tenant",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "client_secret": SECRET,
        "expected_subscriptions": [PROD],
        "contacts": ["soc@demo.example"],
    }
    device = onboard_demo_device(tenant)
    assert onboard_demo_device(tenant).pk == device.pk
    assert device.contact_list() == ["soc@demo.example"]
    with pytest.raises(OnboardingRejected) as rejected:
        onboard_demo_device({**tenant, "client_secret": "wrong"})
    assert "wrong" not in str(rejected.value) and SECRET not in str(rejected.value)


def test_a_crash_report_during_onboarding_hides_the_secret(fake, cs_client):
    """What production e-mails to ADMINS on a 500 (the error reporter, DEBUG off) leaves the secret out."""
    reports = []

    def report(sender, request, **kwargs):
        reports.append(ExceptionReporter(request, *sys.exc_info()).get_traceback_html())

    def crash(tenant):
        raise RuntimeError("unexpected")

    fake.subscriptions.verify_credentials = crash
    cs_client.raise_request_exception = False
    got_request_exception.connect(report)
    try:
        assert cs_client.post(reverse("devices:add"), form_data()).status_code == 500
    finally:
        got_request_exception.disconnect(report)
    assert "client_secret" in reports[0] and "RuntimeError" in reports[0]
    assert SECRET not in reports[0]


def test_editing_a_device_keeps_the_secret_when_left_blank_and_rechecks_the_credentials(fake, cs_client):
    cs_client.post(reverse("devices:add"), form_data())
    device = Device.objects.get()
    edit = reverse("devices:edit", args=[device.pk])
    response = cs_client.post(edit, form_data(client_secret="", contacts="new@contoso.example"))
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.contact_list() == ["new@contoso.example"]
    assert device.tenant().client_secret == SECRET
    response = cs_client.post(edit, form_data(client_secret="wrong"))
    assert "client secret" in response.context["form"].errors["client_secret"][0]
    device.refresh_from_db()
    assert device.tenant().client_secret == SECRET
