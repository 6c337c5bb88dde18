"""Background work of devices, by dotted path for django-q2: take ids, safe to run twice."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.tasks import async_task

from ascmon import crypto
from ascmon.azure.errors import AzureError, BadCredentials
from devices import checks, inventory
from devices.checks import Found
from devices.choices import FindingKind, RunOutcome
from devices.findings import CHECKED_BY_INVENTORY, reconcile
from devices.models import Device, InventoryRun

logger = logging.getLogger(__name__)

# Pipelines of other apps that start after each inventory; an app that has not landed yet is skipped.
FOLLOW_UPS = ("alerts.tasks.poll_device", "storage_logs.tasks.ingest_device")


def run_all_inventories():
    """Scheduled: flag stale devices, then queue one inventory per active device."""
    for device in Device.objects.filter(is_active=True):
        check_staleness(device)
        async_task("devices.tasks.run_inventory", device.id)


def run_inventory(device_id, follow_up=True):
    device = Device.objects.filter(pk=device_id, is_active=True).first()
    if device is None:
        return None
    run = InventoryRun.objects.create(device=device)
    try:
        outcome = inventory_of(device, run)
    finally:
        run.finished_at = timezone.now()
        run.save()
    if follow_up and outcome != RunOutcome.FAILED:
        queue_follow_ups(device.id)
    return run.outcome


def inventory_of(device, run):
    """Collect, store, check; the run records the outcome, calls, throttling and errors."""
    try:
        tenant = device.tenant()
    except crypto.SecretUnreadable as exc:
        return finish(run, RunOutcome.FAILED, errors=[{"error": "SecretUnreadable", "message": str(exc)}])
    calls = inventory.Calls(secret=tenant.client_secret)
    try:
        seen = inventory.collect(device, tenant, calls)
    except BadCredentials as exc:
        calls.record("tenant", inventory.wrappers.subscriptions.verify_credentials, exc)
        rejected = Found(
            FindingKind.CREDENTIALS_REJECTED, "", facts=(("reason", exc.reason.replace("_", " ")),)
        )
        reconcile(device, [rejected], checked={FindingKind.CREDENTIALS_REJECTED}, now=timezone.now())
        return fail(device, run, calls)
    except AzureError as exc:
        calls.record("tenant", inventory.wrappers.subscriptions.list_subscriptions, exc)
        return fail(device, run, calls)
    now = timezone.now()
    with transaction.atomic():
        run.snapshot = inventory.store(device, seen, now)
        found = checks.evaluate(
            seen, baseline_days=settings.BASELINE_DAYS, evidence_days=settings.EVIDENCE_DAYS
        )
        run.summary = inventory.summary(seen, found)
        reconcile(
            device,
            found,
            checked=CHECKED_BY_INVENTORY | {FindingKind.DATA_STALE},
            unsure=seen.unsure,
            now=now,
        )
        Device.objects.filter(pk=device.pk).update(last_sync_at=now, last_successful_sync_at=now)
    outcome = RunOutcome.PARTIAL if calls.errors else RunOutcome.SUCCESS
    return finish(run, outcome, calls)


def fail(device, run, calls):
    Device.objects.filter(pk=device.pk).update(last_sync_at=timezone.now())
    device.refresh_from_db()
    check_staleness(device)
    return finish(run, RunOutcome.FAILED, calls)


def finish(run, outcome, calls=None, errors=None):
    run.outcome = outcome
    if calls is not None:
        run.api_calls, run.throttled, run.errors = calls.count, calls.throttled, calls.errors
    if errors is not None:
        run.errors = errors
    return outcome


def check_staleness(device, now=None):
    """Open "data stale" when no sync succeeded within STALE_AFTER_MINUTES; resolve it once one did."""
    now = now or timezone.now()
    since = device.last_successful_sync_at
    facts = (("since", f"{since:%Y-%m-%d %H:%M} UTC" if since else "it was added"),)
    found = [Found(FindingKind.DATA_STALE, "", facts=facts)] if device.is_stale(now) else []
    reconcile(device, found, checked={FindingKind.DATA_STALE}, now=now)


def queue_follow_ups(device_id):
    for path in FOLLOW_UPS:
        try:
            import_string(path)
        except ImportError:
            logger.info("skipping %s: not available yet", path)
            continue
        async_task(path, device_id)
