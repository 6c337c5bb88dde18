"""Devices against the ARM simulator and Azurite, through the real Azure SDKs.

The simulator's demo tenant (small scenario) is misconfigured on purpose: a subscription without access,
a disabled one, Free plans over existing resources, storage accounts without read logging or with short
retention. Its "fixed" state repairs all of it.
"""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from devices import tasks
from devices.choices import FindingKind, NotificationEvent, RunOutcome
from devices.forms import DeviceForm
from devices.models import Device, InventoryRun, Notification
from devices.onboarding import onboard_demo_device

pytestmark = pytest.mark.peers

SCENARIO_KINDS = {
    FindingKind.SUBSCRIPTION_MISSING,
    FindingKind.SUBSCRIPTION_DISABLED,
    FindingKind.PLAN_OFF,
    FindingKind.READ_LOGGING_OFF,
    FindingKind.RETENTION_TOO_SHORT,
    FindingKind.EVIDENCE_TOO_SHORT,
}


@pytest.fixture
def azure(simulated_azure, monkeypatch):
    monkeypatch.setattr(tasks, "FOLLOW_UPS", ())  # alerts and storage logs have their own tests
    return simulated_azure


@pytest.fixture
def device(azure, db):
    return onboard_demo_device(azure.demo_tenant())


def open_kinds(device):
    return set(device.findings.open().values_list("kind", flat=True))


def test_onboarding_the_demo_tenant_yields_every_finding_kind_of_the_scenario_in_one_run(azure, device):
    assert InventoryRun.objects.get(device=device).outcome == RunOutcome.SUCCESS
    assert open_kinds(device) == SCENARIO_KINDS
    for finding in device.findings.all():
        assert list(finding.notifications.values_list("event", flat=True)) == [NotificationEvent.OPENED]
    assert len(mail.outbox) == device.findings.count()
    assert set(mail.outbox[0].to) == set(azure.demo_tenant()["contacts"])


def test_the_first_inventory_stores_subscriptions_plans_resources_and_storage_logging(azure, device):
    scenario_tenant = azure.scenario.demo_tenant()
    audit = next(s for s in scenario_tenant.subscriptions if not s.granted)
    assert list(device.missing_subscriptions().values_list("subscription_id", flat=True)) == [
        audit.subscription_id
    ]
    production = device.subscriptions.get(display_name="Contoso Production")
    assert production.plans.get(name="StorageAccounts").sub_plan == "DefenderForStorageV2"
    assert production.plans.get(name="Dns").deprecated
    assert (
        production.resource_counts.get(resource_type__iexact="Microsoft.Storage/storageAccounts").count == 3
    )
    invoices = device.storage_accounts.get(name__endswith="invoices")
    assert (invoices.logging_read, invoices.logging_version, invoices.logging_retention_days) == (
        True,
        "2.0",
        30,
    )
    assert invoices.diagnostic_logs
    # Its archive's lifecycle rule, read through azure-mgmt-storage: raw lines go after 14 of 30 days.
    assert invoices.lifecycle_delete_days == 14
    evidence = device.findings.get(kind=FindingKind.EVIDENCE_TOO_SHORT)
    assert evidence.subject == invoices.resource_id and "kept 14 days" in evidence.title
    appdata = device.storage_accounts.get(name__endswith="appdata")
    assert (appdata.logging_read, appdata.logging_write, appdata.logging_retention_days) == (False, True, 7)


def test_a_second_run_on_the_same_state_notifies_nothing_new(azure, device):
    sent = len(mail.outbox)
    assert tasks.run_inventory(device.id) == RunOutcome.SUCCESS
    assert len(mail.outbox) == sent
    assert Notification.objects.count() == device.findings.count()


@pytest.mark.parametrize("kind", sorted(SCENARIO_KINDS))
def test_switching_the_tenant_to_its_fixed_state_resolves_each_kind_on_the_next_run(azure, device, kind):
    findings = list(device.findings.filter(kind=kind))
    assert findings
    azure.arm.fix(device.tenant_id)
    assert tasks.run_inventory(device.id) == RunOutcome.SUCCESS
    for finding in findings:
        finding.refresh_from_db()
        assert finding.resolved_at is not None
        assert sorted(finding.notifications.values_list("event", flat=True)) == ["opened", "resolved"]
    assert open_kinds(device) == set()


def test_a_rotated_secret_opens_credentials_rejected_and_the_new_secret_resolves_it(azure, device):
    device.set_secret("Sim~not-the-secret-any-more")
    device.save()
    assert tasks.run_inventory(device.id) == RunOutcome.FAILED
    assert FindingKind.CREDENTIALS_REJECTED in open_kinds(device)
    device.set_secret(azure.demo_tenant()["client_secret"])
    device.save()
    tasks.run_inventory(device.id)
    assert FindingKind.CREDENTIALS_REJECTED not in open_kinds(device)


def test_throttled_calls_are_counted_and_the_run_is_partial(azure, device):
    azure.arm.add_faults({"kind": "429", "match": "/pricings", "count": -1, "retry_after": 0})
    assert tasks.run_inventory(device.id) == RunOutcome.PARTIAL
    run = InventoryRun.objects.filter(device=device).first()
    assert run.throttled > 0 and run.api_calls > 0
    assert FindingKind.PLAN_OFF in open_kinds(device)  # unknown plans keep their findings open


def form(tenant, **overrides):
    data = {**tenant, **overrides}
    data["expected_subscriptions"] = "\n".join(data["expected_subscriptions"])
    data["contacts"] = "\n".join(data["contacts"])
    return DeviceForm(data)


def test_a_wrong_secret_is_rejected_at_onboarding_with_a_message_about_the_secret(azure, db):
    rejected = form(azure.demo_tenant(), client_secret="Sim~wrong")
    assert not rejected.is_valid()
    assert "client secret" in rejected.errors["client_secret"][0]
    assert not Device.objects.exists()


def test_a_wrong_tenant_is_rejected_at_onboarding_with_a_message_about_the_tenant(azure, db):
    rejected = form(azure.demo_tenant(), tenant_id="0badc0de-0000-4000-8000-000000000000")
    assert not rejected.is_valid()
    assert "tenant" in rejected.errors["tenant_id"][0]
    assert not Device.objects.exists()


def test_the_secret_never_appears_in_pages_logs_errors_or_the_admin(azure, client, admin_user, caplog):
    caplog.set_level(logging.DEBUG)
    secret = azure.demo_tenant()["client_secret"]
    client.force_login(admin_user)
    data = form(azure.demo_tenant()).data
    pages = [client.post(reverse("devices:add"), {**data, "client_secret": secret + "x"})]
    pages.append(client.post(reverse("devices:add"), data, follow=True))
    device = Device.objects.get()
    azure.arm.add_faults({"kind": "500", "match": "/storageAccounts", "count": -1})
    tasks.run_inventory(device.id)
    for url in (
        reverse("devices:list"),
        reverse("devices:detail", args=[device.pk]),
        reverse("devices:edit", args=[device.pk]),
        reverse("devices:notifications"),
        reverse("admin:devices_device_change", args=[device.pk]),
        reverse("admin:devices_inventoryrun_change", args=[InventoryRun.objects.first().pk]),
    ):
        pages.append(client.get(url))
    for page in pages:
        assert page.status_code == 200
        assert secret not in page.content.decode()
    assert secret not in caplog.text
    assert secret not in str(list(InventoryRun.objects.values_list("errors", "snapshot")))
    assert all(secret not in message.body for message in mail.outbox)


def test_an_unreachable_tenant_goes_stale_and_the_next_good_sync_resolves_it(azure, device, settings):
    settings.STALE_AFTER_MINUTES = 30
    Device.objects.filter(pk=device.pk).update(last_successful_sync_at=timezone.now() - timedelta(hours=1))
    azure.arm.add_faults({"kind": "500", "match": "/subscriptions", "count": -1})
    assert tasks.run_inventory(device.id) == RunOutcome.FAILED
    assert FindingKind.DATA_STALE in open_kinds(device)
    assert open_kinds(device) >= SCENARIO_KINDS  # a failed run resolves nothing
    azure.arm.clear_faults()
    assert tasks.run_inventory(device.id) == RunOutcome.SUCCESS
    assert open_kinds(device) == SCENARIO_KINDS
