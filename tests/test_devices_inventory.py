"""Inventory, findings and notifications on plain data (a fake of the Azure wrappers, no simulator)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from ascmon.azure.errors import Throttled
from devices import inventory, tasks
from devices.choices import FindingKind, NotificationEvent, RunOutcome
from devices.models import Device, InventoryRun, Notification
from tests import factories
from tests.devices_fake import CLIENT, DEV, GONE, PROD, SECRET, TENANT, FakeAzure, fixed_scenario

SCENARIO_KINDS = {
    FindingKind.SUBSCRIPTION_MISSING,
    FindingKind.SUBSCRIPTION_DISABLED,
    FindingKind.ALERTS_FORBIDDEN,
    FindingKind.DEFENDER_OFF,
    FindingKind.PLAN_OFF,
    FindingKind.READ_LOGGING_OFF,
    FindingKind.RETENTION_TOO_SHORT,
    FindingKind.EVIDENCE_TOO_SHORT,
}


@pytest.fixture
def fake(monkeypatch):
    fake = FakeAzure()
    monkeypatch.setattr(inventory, "wrappers", fake)
    monkeypatch.setattr(tasks, "FOLLOW_UPS", ())
    return fake


@pytest.fixture
def device(db):
    return factories.device(
        "Contoso",
        tenant_id=TENANT,
        client_id=CLIENT,
        secret=SECRET,
        expected_subscriptions=[PROD, DEV, GONE],
        contacts="soc@contoso.example",
    )


def open_kinds(device):
    return set(device.findings.open().values_list("kind", flat=True))


def test_one_inventory_run_opens_every_finding_kind_the_scenario_contains(fake, device):
    assert tasks.run_inventory(device.id) == RunOutcome.SUCCESS
    assert open_kinds(device) == SCENARIO_KINDS
    for finding in device.findings.all():
        assert list(finding.notifications.values_list("event", flat=True)) == [NotificationEvent.OPENED]
        assert finding.portal_steps and finding.cli_command.startswith("az ")
    assert len(mail.outbox) == device.findings.count()
    assert mail.outbox[0].to == ["soc@contoso.example"]


def test_a_second_run_on_the_same_state_opens_and_notifies_nothing_new(fake, device):
    tasks.run_inventory(device.id)
    first = set(device.findings.values_list("pk", "last_seen_at"))
    tasks.run_inventory(device.id)
    assert device.findings.count() == len(first)
    assert Notification.objects.count() == len(first)
    assert len(mail.outbox) == len(first)
    assert set(device.findings.values_list("pk", "last_seen_at")) != first  # last seen moved on


def test_the_fixed_state_resolves_every_finding_on_the_next_run_and_notifies_each_once(fake, device):
    tasks.run_inventory(device.id)
    opened = device.findings.count()
    fake.state = fixed_scenario()
    tasks.run_inventory(device.id)
    tasks.run_inventory(device.id)
    assert open_kinds(device) == set()
    assert device.findings.count() == opened  # history stays
    assert Notification.objects.filter(event=NotificationEvent.RESOLVED).count() == opened
    assert len(mail.outbox) == 2 * opened


def fix_missing(state):
    state["subscriptions"].append({"subscription_id": GONE, "display_name": "Gone", "state": "Enabled"})


def fix_disabled(state):
    state["subscriptions"][1]["state"] = "Enabled"


def fix_forbidden(state):
    state["alerts_forbidden"] = set()


def fix_defender_off(state):
    state["pricings"][DEV][1]["pricing_tier"] = "Standard"


def fix_plan_off(state):
    state["pricings"][PROD][0]["pricing_tier"] = "Standard"


def fix_read_logging(state):
    state["logging"]["prodlogs"]["read"] = True


def fix_retention(state):
    state["logging"]["proddata"]["retention_days"] = 30


def fix_evidence_retention(state):
    state["logging"]["prodlogs"]["retention_days"] = 30  # the SOC's investigation window (30 days)


FIXES = {
    FindingKind.SUBSCRIPTION_MISSING: fix_missing,
    FindingKind.SUBSCRIPTION_DISABLED: fix_disabled,
    FindingKind.ALERTS_FORBIDDEN: fix_forbidden,
    FindingKind.DEFENDER_OFF: fix_defender_off,
    FindingKind.PLAN_OFF: fix_plan_off,
    FindingKind.READ_LOGGING_OFF: fix_read_logging,
    FindingKind.RETENTION_TOO_SHORT: fix_retention,
    FindingKind.EVIDENCE_TOO_SHORT: fix_evidence_retention,
}


@pytest.mark.parametrize("kind", sorted(FIXES))
def test_each_finding_kind_resolves_itself_when_the_next_run_sees_the_fix(fake, device, kind):
    tasks.run_inventory(device.id)
    finding = device.findings.get(kind=kind)
    FIXES[kind](fake.state)
    tasks.run_inventory(device.id)
    finding.refresh_from_db()
    assert finding.resolved_at is not None
    assert list(finding.notifications.values_list("event", flat=True)) == ["resolved", "opened"]
    assert open_kinds(device) == SCENARIO_KINDS - {kind}


def test_a_finding_that_comes_back_is_a_new_finding_and_the_old_one_stays_resolved(fake, device):
    tasks.run_inventory(device.id)
    fix_read_logging(fake.state)
    tasks.run_inventory(device.id)
    fake.state["logging"]["prodlogs"]["read"] = False
    tasks.run_inventory(device.id)
    rows = device.findings.filter(kind=FindingKind.READ_LOGGING_OFF).order_by("id")
    assert [row.is_open for row in rows] == [False, True]


def test_rejected_credentials_open_a_finding_and_a_working_secret_resolves_it(fake, device):
    fake.identity = (TENANT, CLIENT, "rotated")
    assert tasks.run_inventory(device.id) == RunOutcome.FAILED
    assert open_kinds(device) == {FindingKind.CREDENTIALS_REJECTED}
    device.refresh_from_db()
    assert device.last_successful_sync_at is None
    fake.identity = (TENANT, CLIENT, SECRET)
    tasks.run_inventory(device.id)
    assert FindingKind.CREDENTIALS_REJECTED not in open_kinds(device)


def test_a_device_with_no_successful_sync_for_too_long_is_stale_until_a_sync_succeeds(fake, device, settings):
    settings.STALE_AFTER_MINUTES = 30
    Device.objects.filter(pk=device.pk).update(created_at=timezone.now() - timedelta(hours=2))
    fake.identity = (TENANT, CLIENT, "rotated")
    tasks.run_inventory(device.id)
    assert FindingKind.DATA_STALE in open_kinds(device)
    fake.identity = (TENANT, CLIENT, SECRET)
    tasks.run_inventory(device.id)
    assert FindingKind.DATA_STALE not in open_kinds(device)


def test_the_scheduled_sweep_flags_stale_devices(fake, device, settings, monkeypatch):
    monkeypatch.setattr(tasks, "async_task", lambda *args, **kwargs: None)
    Device.objects.filter(pk=device.pk).update(last_successful_sync_at=timezone.now() - timedelta(days=1))
    tasks.run_all_inventories()
    assert open_kinds(device) == {FindingKind.DATA_STALE}


def test_throttled_calls_are_counted_and_keep_that_subscriptions_findings_open(fake, device):
    tasks.run_inventory(device.id)
    plan_off = device.findings.get(kind=FindingKind.PLAN_OFF)
    fake.state["throttle"] = {(PROD, "pricings")}
    fix_plan_off(fake.state)
    assert tasks.run_inventory(device.id) == RunOutcome.PARTIAL
    run = InventoryRun.objects.first()
    assert run.throttled == 1
    assert run.errors[0]["error"] == "Throttled"
    plan_off.refresh_from_db()
    assert plan_off.is_open


def test_each_run_records_its_duration_calls_and_what_it_saw(fake, device):
    tasks.run_inventory(device.id)
    run = InventoryRun.objects.get()
    assert run.outcome == RunOutcome.SUCCESS and run.duration is not None
    assert run.api_calls > 10
    subs = {sub["id"]: sub for sub in run.snapshot["subscriptions"]}
    assert subs[PROD]["plans"]["StorageAccounts"]["tier"] == "Free"
    assert subs[PROD]["resources"]["Microsoft.Storage/storageAccounts"] == 2
    prodlogs = device.storage_accounts.get(name="prodlogs")
    assert (prodlogs.logging_read, prodlogs.logging_write, prodlogs.logging_version) == (False, True, "2.0")
    assert list(device.missing_subscriptions().values_list("subscription_id", flat=True)) == [GONE]
    assert (run.summary["missing"], run.summary["plans_on"], run.summary["plans"]) == (1, 1, 4)


def test_the_secret_never_reaches_a_run_error(fake, device):
    fake.state["throttle"] = {(PROD, "resources")}
    fake.count_resources = lambda tenant, sub: (_ for _ in ()).throw(
        Throttled(f"echo {tenant.client_secret}")
    )
    fake.resources.count_resources = fake.count_resources
    tasks.run_inventory(device.id)
    assert SECRET not in str(InventoryRun.objects.get().errors)


def test_follow_up_pipelines_are_queued_only_when_they_can_be_imported(monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "async_task", lambda path, *args: queued.append((path, args)))
    monkeypatch.setattr(tasks, "FOLLOW_UPS", ("devices.tasks.run_inventory", "nowhere.tasks.missing"))
    tasks.queue_follow_ups(7)
    assert queued == [("devices.tasks.run_inventory", (7,))]


def test_every_device_is_inventoried_every_ten_minutes(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="devices.tasks.run_all_inventories")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 10)
