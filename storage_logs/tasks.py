"""Ingestion of storage logs straight from customers' accounts (django-q2 tasks by dotted path).

`sweep` (scheduled every few minutes) decides from stored state which account-hours are due: every hour after
the account's mark of hours fully read, until Azure can no longer add lines to it. It queues them as spans,
`ingest_account_hours(account_id, first, last, run_id)`: contiguous due hours of one UTC day, read by one
task with one listing per container and as few transactions as the lines need (the cost of an hour of a
quiet account is its round trips, not its lines). It also closes runs whose worker or task was lost
(their hours are due again), reports hours that can no longer be read, and forgets request digests no
batch needs. Tasks are safe to run twice, at once or never: completeness comes from the runs, marks and
checkpoints the sweep reads, not from the broker. Every run ends ok, failed, lost or abandoned, with its
reason. Times come from the database's clock, which every worker shares.
"""

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django_q.tasks import async_task

from ascmon.azure import blobs
from ascmon.azure.errors import AzureError
from devices.models import StorageAccount
from storage_logs import findings, ingest
from storage_logs.aggregate import LATENESS
from storage_logs.models import AccountIngest, IngestRun, SeenRequests

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)
ACCOUNT_HOUR = "account_hour"


def db_now():
    """The database server's time: one clock for every worker, however theirs drift."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_TIMESTAMP")
        value = cursor.fetchone()[0]
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if isinstance(value, str) else value


def floor_hour(moment):
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# ---- the sweep -----------------------------------------------------------------------------------------


def sweep(now=None):
    """Scheduled: close lost runs, queue every due account-hour, forget old digests. Returns the count."""
    now = now or db_now()
    run = IngestRun.objects.create(task="sweep", status=IngestRun.RUNNING, started_at=db_now())
    try:
        abandoned = close_lost_runs(now)
        accounts = list(loggable_accounts())
        queued = sum(queue_due_hours(account, now) for account in accounts)
        for device in {account.device for account in accounts}:
            findings.refresh_lost_hours(device, now)
        forget_old_digests(now)
    except Exception as error:
        _finish(run, IngestRun.FAILED, message=f"{type(error).__name__}: {error}")
        raise
    _finish(run, IngestRun.OK, message=f"{queued} account-hours queued, {abandoned} lost runs closed")
    return queued


def forget_old_digests(now):
    """Request digests of hours older than STORAGE_LOGS_DIGEST_RETENTION are no longer kept."""
    SeenRequests.objects.filter(last_hour__lt=now - settings.STORAGE_LOGS_DIGEST_RETENTION).delete()


def ingest_device(device_id, now=None):
    """Queue the due hours of one device's accounts (after its inventory found them)."""
    now = now or db_now()
    return sum(queue_due_hours(account, now) for account in loggable_accounts().filter(device_id=device_id))


def loggable_accounts():
    logging_on = (
        Q(logging_read=True) | Q(logging_write=True) | Q(logging_delete=True) | Q(diagnostic_logs=True)
    )
    return StorageAccount.objects.filter(logging_on, device__is_active=True).select_related("device")


def close_lost_runs(now):
    """Runs whose task never started, or whose worker stopped storing batches, end as abandoned."""
    lost_tasks = Q(status=IngestRun.QUEUED, started_at__lt=now - settings.STORAGE_LOGS_QUEUE_TIMEOUT)
    silent = now - settings.STORAGE_LOGS_RUN_TIMEOUT
    lost_workers = Q(status=IngestRun.RUNNING, started_at__lt=silent) & (
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=silent)
    )
    return IngestRun.objects.filter(lost_tasks | lost_workers).update(
        status=IngestRun.ABANDONED,
        finished_at=now,
        message="Its task was lost or its worker stopped; the hour is queued again.",
    )


def queue_due_hours(account, now):
    """Queue each hour of the account that is not settled yet; move the account's mark and report hours that
    can no longer be read. Returns how many were queued."""
    state, _ = AccountIngest.objects.get_or_create(account=account)
    current = floor_hour(now)
    first = state.read_until or current - settings.STORAGE_LOGS_FIRST_LOOKBACK
    oldest = _oldest_readable(account, current)
    lost = max(0, int((oldest - first) / HOUR))
    first = max(first, oldest)
    settled, skip = _hour_states(account, first, now)
    hours = [first + HOUR * n for n in range(int((current - first) / HOUR) + 1)]
    due = [hour for hour in hours if hour not in settled and hour not in skip]
    mark = next((hour for hour in hours if hour not in settled), current + HOUR)
    AccountIngest.objects.filter(pk=state.pk).update(read_until=mark)
    if lost:
        _lost(account, lost, f"{lost} hour(s) before {oldest:%Y-%m-%d %H}:00 UTC were never read", now)
    for first, last in spans(due):
        run = IngestRun.objects.create(
            task=ACCOUNT_HOUR, account=account, device_id=account.device_id, hour=first, last_hour=last,
            status=IngestRun.QUEUED, started_at=now,
        )  # fmt: skip
        async_task(
            "storage_logs.tasks.ingest_account_hours", account.id, first.isoformat(), last.isoformat(), run.id
        )
    return len(due)


def spans(hours):
    """[(first, last)] of sorted hours: runs of contiguous hours within one UTC day, at most
    STORAGE_LOGS_SPAN_HOURS each (a day's listing serves them all, and a day's volume row their batches)."""
    out = []
    for hour in hours:
        if out:
            first, last = out[-1]
            same_day = hour.astimezone(UTC).date() == first.astimezone(UTC).date()
            if hour == last + HOUR and same_day and hour - first < settings.STORAGE_LOGS_SPAN_HOURS * HOUR:
                out[-1] = (first, hour)
                continue
        out.append((hour, hour))
    return out


def _oldest_readable(account, current):
    """The oldest hour still worth reading: no further back than STORAGE_LOGS_MAX_BACKFILL, nor than the
    account's classic log retention (Azure deletes older blobs)."""
    oldest = current - settings.STORAGE_LOGS_MAX_BACKFILL
    if account.classic_logging_on and not account.diagnostic_logs and account.logging_retention_days:
        oldest = max(oldest, current - timedelta(days=account.logging_retention_days) + HOUR)
    return oldest


def _hour_states(account, first, now):
    """(settled hours, hours to leave alone for now): an hour is settled once a run read it after Azure could
    still add lines to it, or found it could not be read; a queued or running hour, or one read moments
    ago, waits."""
    settled, skip = set(), set()
    runs = IngestRun.objects.filter(  # a span never leaves its UTC day: it starts at most 23 hours before
        account=account, task=ACCOUNT_HOUR, hour__gte=first - 23 * HOUR, last_hour__gte=first
    )
    for run in runs.only("hour", "last_hour", "status", "started_at"):
        status, started = run.status, run.started_at
        for hour in run.hours():
            if status == IngestRun.LOST or (status == IngestRun.OK and started >= hour + HOUR + LATENESS):
                settled.add(hour)
            elif status in IngestRun.OPEN or (
                status == IngestRun.OK and started >= now - settings.STORAGE_LOGS_RECHECK
            ):
                skip.add(hour)
    return settled, skip


def _lost(account, hours, reason, now):
    AccountIngest.objects.filter(account=account).update(lost_hours=F("lost_hours") + hours, lost_at=now)
    findings.refresh_lost_hours(account.device, now, {account.id: reason})


# ---- one account-hour ----------------------------------------------------------------------------------


def ingest_account_hour(account_id, hour, run_id=None):
    """Read every log blob of one account-hour from its checkpoints on (a span of one hour)."""
    return ingest_account_hours(account_id, hour, hour, run_id)


def ingest_account_hours(account_id, first, last, run_id=None):
    """Read every log blob of the account's hours `first` to `last` (one UTC day) from their checkpoints
    on. Safe to run twice, or at once."""
    first, last = (datetime.fromisoformat(h) if isinstance(h, str) else h for h in (first, last))
    if last < first:
        raise ValueError(f"a span of hours ends before it starts: {first} to {last}")
    account = StorageAccount.objects.select_related("device").filter(pk=account_id).first()
    if account is None:
        IngestRun.objects.filter(pk=run_id).update(status=IngestRun.FAILED, message="The account is gone.")
        return None
    now = db_now()
    run = _claim(run_id, account, first, last, now)
    hours, totals = run.hours(), Counter()
    try:
        access = account_access(account)
        samples, lost = ingest.read_account_hours(
            run, account, hours, access, archive_access(account, access), totals
        )
    except AzureError as error:
        _finish(run, IngestRun.FAILED, totals, message=f"{type(error).__name__}: {error}")
        if error.retryable:
            raise
        return dict(totals)
    except Exception as error:
        _finish(run, IngestRun.FAILED, totals, message=f"{type(error).__name__}: {error}")
        raise
    if lost:
        _lost_hours(run, account, lost, len(hours), now)
    if lost and len(lost) == len(hours):
        _finish(run, IngestRun.LOST, totals, message=next(iter(lost.values())))
    else:
        _finish(run, IngestRun.OK, totals, samples, message=_changed_note(totals, lost))
    return dict(totals)


def _claim(run_id, account, first, last, now):
    """The queued run of this task, now running; or a new run if that was lost, or this task ran twice."""
    if run_id and IngestRun.objects.filter(pk=run_id, status=IngestRun.QUEUED).update(
        status=IngestRun.RUNNING, started_at=now, heartbeat_at=now
    ):
        return IngestRun.objects.get(pk=run_id)
    return IngestRun.objects.create(
        task=ACCOUNT_HOUR, account=account, device_id=account.device_id, hour=first, last_hour=last,
        status=IngestRun.RUNNING, started_at=now, heartbeat_at=now,
    )  # fmt: skip


def _lost_hours(run, account, lost, span_hours, now):
    """Hours of a span whose rewritten blobs cannot be read again without counting lines twice: each gets a
    lost run of its own (the sweep settles them), the account's count of lost hours and a finding."""
    if len(lost) < span_hours:
        IngestRun.objects.bulk_create(
            IngestRun(task=ACCOUNT_HOUR, account=account, device_id=account.device_id, hour=hour,
                      last_hour=hour, status=IngestRun.LOST, started_at=now, finished_at=now,
                      message=reason[:2000])
            for hour, reason in sorted(lost.items())
        )  # fmt: skip
    _lost(account, len(lost), "; ".join(sorted(set(lost.values())))[:2000], now)


def _changed_note(totals, lost=None):
    changed = totals.get("changed_blobs", 0)
    notes = []
    if changed:
        notes.append(
            f"{changed} blob(s) changed since they were read and were read again from their start; lines "
            "counted before were dropped as repeats."
        )
    if lost:
        hours = ", ".join(f"{hour:%H}:00" for hour in sorted(lost))
        notes.append(f"Hour(s) {hours} not read: {next(iter(lost.values()))}")
    return " ".join(notes)


def account_access(account):
    """The data-plane access of an account, with its key from ARM (listKeys); its reads count against the
    tenant's budget of Azure calls."""
    from ascmon.azure import storage

    tenant = account.device.tenant()
    key = storage.get_account_key(tenant, account.resource_id)
    return blobs.BlobAccess(account.blob_endpoint, account.name, key, tenant_id=account.device.tenant_id)


def archive_access(account, own_access):
    """Diagnostic settings may archive an account's logs into another account: read them there."""
    target_id = account.diagnostic_target_account_id
    if not target_id or target_id.lower() == account.resource_id.lower():
        return own_access
    target = StorageAccount.objects.filter(device=account.device, resource_id__iexact=target_id).first()
    return account_access(target) if target else own_access


COUNTED = (
    "blobs_read",
    "bytes_read",
    "lines",
    "rejected",
    "duplicates",
    "records",
    "merged",
    "changed_blobs",
)


def _finish(run, status, totals=None, samples=None, message=""):
    fields = {name: (totals or {}).get(name, 0) for name in COUNTED}
    if samples is not None:
        fields["rejected_samples"] = samples
    done = {"status": status, "finished_at": db_now(), "message": message[:2000]}
    IngestRun.objects.filter(pk=run.pk).update(**done, **fields)
