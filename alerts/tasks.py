"""django-q2 task functions (called by dotted path): poll alerts, write triage status back to Azure.

Each takes ids and is safe to run twice: upserts are keyed on the alert's identity, and an alert missing
from a listing is never hidden or deleted, so a failed or partial poll cannot make alerts disappear.
"""

import logging
import threading
import time
from queue import Empty, Full, Queue

from django.conf import settings
from django.utils import timezone

from alerts.choices import TRIAGE_TO_AZURE, ChangeSource, PollOutcome
from alerts.ingest import Ingester
from alerts.models import Alert, AuditEvent, PollRun, SuppressionRule
from ascmon.azure import security
from ascmon.azure.errors import AzureError
from devices.models import Device

log = logging.getLogger(__name__)
# A poll resumes from the failed page's link this many times before it records a partial run.
MAX_RESUMES = 5
# Pages fetched ahead of the one being stored; when storing is slower they are stored in one transaction.
PREFETCH_PAGES = 8


def poll_all_devices():
    """Fan out: one poll task per active device."""
    from django_q.tasks import async_task

    for device_id in Device.objects.filter(is_active=True).values_list("id", flat=True):
        async_task("alerts.tasks.poll_device", device_id, task_name=f"poll alerts of device {device_id}")


def poll_device(device_id):
    """Poll every visible subscription of the device; returns the PollRun ids."""
    device = Device.objects.filter(pk=device_id, is_active=True).first()
    if device is None:
        return []
    subscriptions = device.subscriptions.filter(visible=True).values_list("subscription_id", flat=True)
    return [poll_subscription(device, subscription_id).pk for subscription_id in subscriptions]


def poll_subscription(device, subscription_id):
    """Page through the subscription's alerts, resuming from the last good page after a retryable error."""
    run = PollRun.objects.create(device=device, subscription_id=subscription_id)
    ingester, started = Ingester(device, ChangeSource.AZURE, poll=run), time.monotonic()
    try:
        run.outcome = page_through(run, ingester, security.iter_alert_pages, device.tenant(), subscription_id)
    except Exception as error:  # recorded on the run, then left to django-q to report and retry
        run.outcome = PollOutcome.FAILED
        run.errors.append({"page": run.pages + 1, "error": type(error).__name__, "message": str(error)[:500]})
        finish(run, ingester, started)
        raise
    return finish(run, ingester, started)


def page_through(run, ingester, iter_pages, tenant, subscription_id):
    """Ingest every page; after a retryable error wait and resume from the last page stored."""
    continuation = None
    while True:
        try:
            for pages in prefetched(iter_pages(tenant, subscription_id, continuation)):
                alerts = [alert for page in pages for alert in page.alerts]
                ingester.ingest_page(alerts, [item for page in pages for item in page.rejected])
                run.pages += len(pages)
                continuation = pages[-1].next_link
            return PollOutcome.OK
        except AzureError as error:
            run.errors.append(
                {"page": run.pages + 1, "error": type(error).__name__, "message": str(error)[:500]}
            )
            if not error.retryable or run.throttled >= MAX_RESUMES:
                return PollOutcome.PARTIAL if run.pages else PollOutcome.FAILED
            run.throttled += 1
            time.sleep(wait_seconds(error))


def prefetched(pages, depth=PREFETCH_PAGES):
    """Iterate `pages` from a background thread up to `depth` pages ahead, so fetching the next pages
    overlaps storing these. Yields lists: every page fetched by then, at least one, so when storing is
    the slower side several pages share one transaction. Pages and the error that ends them arrive in
    order, so a caller resuming from the last page it consumed skips nothing."""
    queue, stop = Queue(maxsize=depth), threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                return queue.put(item, timeout=0.2)
            except Full:
                continue

    def produce():
        try:
            for page in pages:
                put(("page", page))
                if stop.is_set():
                    return
            put(("end", None))
        except Exception as error:  # handed to the consumer, which decides about retrying
            put(("error", error))

    def ready():
        """The next item, then those already waiting; only the last can be the end or an error."""
        items = [queue.get()]
        while items[-1][0] == "page":
            try:
                items.append(queue.get_nowait())
            except Empty:
                break
        return items

    threading.Thread(target=produce, name="alert-pages", daemon=True).start()
    try:
        while True:
            items = ready()
            if fetched := [value for kind, value in items if kind == "page"]:
                yield fetched
            kind, value = items[-1]
            if kind == "error":
                raise value
            if kind == "end":
                return
    finally:
        stop.set()


def wait_seconds(error):
    ceiling = getattr(settings, "ALERTS_POLL_MAX_WAIT_SECONDS", 10)
    return min(getattr(error, "retry_after", None) or 1, ceiling)


def finish(run, ingester, started):
    for name, value in ingester.counts.items():
        setattr(run, name, value)
    run.finished_at = timezone.now()
    run.duration_seconds = round(time.monotonic() - started, 3)
    run.save()
    return run


def release_lapsed_rules():
    """Scheduled: alerts hidden by a rule that expired (or was disabled outside the admin) go to another
    active rule covering them, or back into the list. Returns how many are shown again."""
    shown = 0
    for rule in SuppressionRule.objects.lapsed().filter(alerts__isnull=False).distinct():
        released = SuppressionRule.objects.filter(pk=rule.pk).release()
        AuditEvent.objects.create(
            action="suppression rule lapsed", detail={"rule": rule.pk, "shown_again": released}
        )
        shown += released
    return shown


def write_back_statuses(alert_ids, user_id=None):
    """Write back each alert's status (one task for a bulk triage); returns how many Azure accepted."""
    return sum(write_back_status(alert_id, user_id) for alert_id in alert_ids)


def write_back_status(alert_id, user_id=None):
    """Ask Azure for the status matching the alert's triage; the next poll confirms it."""
    alert = Alert.objects.select_related("device").get(pk=alert_id)
    wanted = TRIAGE_TO_AZURE[alert.triage_status]
    try:
        security.set_alert_status(alert.device.tenant(), alert.resource_id, str(wanted))
    except AzureError as error:
        AuditEvent.objects.create(
            user_id=user_id,
            alert=alert,
            action="write-back failed",
            detail={"status": wanted, "error": str(error)},
        )
        return False
    Alert.objects.filter(pk=alert.pk).update(requested_azure_status=wanted)
    AuditEvent.objects.create(
        user_id=user_id, alert=alert, action="wrote status to Azure", detail={"status": wanted}
    )
    return True
