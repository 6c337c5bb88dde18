"""Ingestion of storage logs straight from customers' accounts (django-q2 tasks by dotted path).

`ingest_all_devices` (scheduled) → `ingest_device(device_id)` → `ingest_account_hour(account_id, hour)`.
Each blob is read from its checkpoint in batches of whole lines; a batch's aggregates, volume and
checkpoint are written in one transaction, and the checkpoint only moves if nobody moved it first
(conditional update / unique constraint), so a crash or a second worker never loses or doubles a line.
"""

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from ascmon.azure import blobs
from ascmon.azure.errors import AzureError
from devices.models import Device, StorageAccount
from storage_logs import parse
from storage_logs.aggregate import Aggregator, serialized_size
from storage_logs.models import (
    AggregationPolicy,
    BlobCheckpoint,
    DailyVolume,
    IngestRun,
    LogAggregate,
    SeenRequests,
)

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)
LATENESS_HOURS = 2  # Azure delivers up to an hour late: the last hours are read again
FIRST_LOOKBACK_HOURS = 24
BATCH_BYTES = 16 * 1024 * 1024
MONITOR_CONTAINERS = (
    "insights-logs-storageread",
    "insights-logs-storagewrite",
    "insights-logs-storagedelete",
)
# Log Analytics bills ~25 % less than the incoming JSON (docs/azure-formats.md §7)
JSON_BILLABLE_FACTOR = 0.75


def ingest_all_devices():
    for device_id in Device.objects.filter(is_active=True).values_list("id", flat=True):
        async_task("storage_logs.tasks.ingest_device", device_id)


def ingest_device(device_id, now=None):
    """Queue one task per storage account and hour still to read (the lateness window, or a day at first)."""
    run = IngestRun.objects.create(task="device", device_id=device_id)
    now = now or timezone.now()
    queued = 0
    for account in StorageAccount.objects.filter(device_id=device_id):
        if not (account.classic_logging_on or account.diagnostic_logs):
            continue
        for hour in hours_to_read(account, now):
            async_task("storage_logs.tasks.ingest_account_hour", account.id, hour.isoformat())
            queued += 1
    _finish(run, IngestRun.OK, message=f"{queued} account-hours queued")
    return queued


def hours_to_read(account, now):
    done = IngestRun.objects.filter(account=account, task="account_hour", status=IngestRun.OK).exists()
    back = LATENESS_HOURS if done else FIRST_LOOKBACK_HOURS
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - HOUR * n for n in range(back, -1, -1)]


def account_access(account, account_key=None):
    """The data-plane access of an account; the key comes from ARM (listKeys) unless given."""
    if account_key is None:
        from ascmon.azure import storage

        account_key = storage.get_account_key(account.device.tenant(), account.resource_id)
    return blobs.BlobAccess(account.blob_endpoint, account.name, account_key)


def sources(account, hour):
    """(container, prefix, json?) to list for an hour: classic $logs, and the Monitor archive if on."""
    if account.classic_logging_on:
        yield "$logs", f"blob/{hour:%Y/%m/%d/%H}00/", False
    if account.diagnostic_logs:
        rid = f"{account.resource_id}/blobServices/default".upper().lstrip("/")
        for container in MONITOR_CONTAINERS:
            yield container, f"resourceId=/{rid}/y={hour:%Y}/m={hour:%m}/d={hour:%d}/h={hour:%H}/", True


def archive_access(account, own_access):
    """Diagnostic settings may archive an account's logs into another account: read them there."""
    target_id = account.diagnostic_target_account_id
    if not target_id or target_id.lower() == account.resource_id.lower():
        return own_access
    target = StorageAccount.objects.filter(device=account.device, resource_id__iexact=target_id).first()
    return account_access(target) if target else own_access


def ingest_account_hour(account_id, hour, account_key=None, batch_bytes=None, after_batch=None):
    """Read every log blob of one account-hour from its checkpoint on. Safe to run twice, or at once."""
    hour = datetime.fromisoformat(hour) if isinstance(hour, str) else hour
    account = StorageAccount.objects.select_related("device").get(pk=account_id)
    run = IngestRun.objects.create(
        task="account_hour", account=account, device_id=account.device_id, hour=hour
    )
    totals, rejects = Counter(), parse.Rejects()
    try:
        access = account_access(account, account_key)
        policies = AggregationPolicy.current()
        for container, prefix, is_json in sources(account, hour):
            if is_json:
                access = archive_access(account, access)
            for info in blobs.list_blobs(access, container, prefix):
                _ingest_blob(account, access, container, info, hour, policies, totals, rejects,
                             batch_bytes or BATCH_BYTES, after_batch, is_json)  # fmt: skip
    except AzureError as error:
        _finish(run, IngestRun.FAILED, totals, rejects, message=f"{type(error).__name__}: {error}")
        if error.retryable:
            raise
        return dict(totals)
    _finish(run, IngestRun.OK, totals, rejects)
    return dict(totals)


def _ingest_blob(
    account, access, container, info, hour, policies, totals, rejects, batch_bytes, after, is_json
):
    checkpoint = BlobCheckpoint.objects.filter(account=account, container=container, name=info.name).first()
    offset = checkpoint.consumed if checkpoint else 0
    if info.size < offset:
        log.warning("log blob %s/%s shrank below its checkpoint; left alone", container, info.name)
        return
    if info.size == offset:
        return
    totals["blobs_read"] += 1
    stream = blobs.read_blob(access, container, info.name, offset)
    for data in whole_line_batches(stream, batch_bytes):
        consumed = len(data)
        saved = _store_batch(
            account, container, info, hour, offset, consumed, data, policies, rejects, is_json
        )
        if saved is None:  # another worker moved the checkpoint: it owns this blob now
            return
        totals.update(saved)
        offset += consumed
        if after:
            after(offset)


def whole_line_batches(stream, batch_bytes):
    """Batches of bytes that end at a newline; a trailing partial line is left for the next run."""
    pending = b""
    for block in stream:
        pending += block
        while len(pending) >= batch_bytes:
            cut = (pending.rfind(b"\n", 0, batch_bytes) + 1) or (pending.find(b"\n", batch_bytes) + 1)
            if not cut:
                break
            yield pending[:cut]
            pending = pending[cut:]
    cut = pending.rfind(b"\n") + 1
    if cut:
        yield pending[:cut]


def _store_batch(account, container, info, hour, offset, consumed, data, policies, rejects, is_json):
    """Aggregate one batch of whole lines and store it with its checkpoint and volume, all or nothing.
    Lines already counted (Azure repeats some, in this blob or another one of the lateness window) are
    told by the request digests remembered per account and hour."""
    before = rejects.count
    near = (hour - HOUR * LATENESS_HOURS, hour + HOUR * LATENESS_HOURS)
    engine = Aggregator(policies)
    recent = SeenRequests.objects.filter(account=account, hour__range=near)
    engine.know(b"".join(bytes(row.digests) for row in recent))
    lines = engine.add_text(data, rejects, is_json=is_json)
    rows = engine.close()
    raw = len(data)
    billable = int(raw * JSON_BILLABLE_FACTOR) if is_json else raw
    fields = list(rows[0]) if rows else []
    batch = _fold_batch(account, rows, f"{container}/{info.name}")
    saved = {
        "lines": lines, "rejected": rejects.count - before, "duplicates": engine.duplicates,
        "bytes_read": consumed,
    }  # fmt: skip
    for _attempt in range(3):  # a unique-constraint race with another blob's batch: look again
        try:
            with transaction.atomic():
                if not _advance(account, container, info, offset, consumed, lines):
                    raise _Lost
                saved["records"], agg_bytes = _merge_stored(account, batch, fields)
                _add_volume(account, hour.date(), saved, raw, billable, agg_bytes)
                _remember(account, hour, engine.fresh_digests())
            return saved
        except _Lost:
            return None
        except IntegrityError:
            continue
    return None


def _fold_batch(account, rows, source):
    """The batch's aggregates, one per (kind, window, group key) (the engine may name two keys alike)."""
    folded = {}
    for row in rows:
        aggregate = _aggregate(account, row, source)
        if aggregate.slot in folded:
            folded[aggregate.slot].merge(aggregate)
        else:
            folded[aggregate.slot] = aggregate
    return folded


def _merge_stored(account, batch, fields):
    """Merge the batch into the rows of the same groups, insert the rest: (records added, bytes added)."""
    stored = _stored_rows(account, batch)
    added, merged, grown = [], [], 0
    for slot, aggregate in batch.items():
        row = stored.get(slot)
        if row is None:
            aggregate.pk = None  # a retried attempt may have set it before rolling back
            added.append(aggregate)
            grown += serialized_size(aggregate.as_record(fields))
            continue
        before = serialized_size(row.as_record(fields))
        row.merge(aggregate)
        grown += serialized_size(row.as_record(fields)) - before
        merged.append(row)
    LogAggregate.objects.bulk_create(added)
    LogAggregate.objects.bulk_update(merged, MERGED_FIELDS, batch_size=500)
    return len(added), grown


MERGED_FIELDS = (
    *LogAggregate.SUMS, *LogAggregate.MINS, *LogAggregate.MAXS, "first_time", "last_time", "status_counts",
    "distinct_objects", "sample_objects", "sample_request_ids",
)  # fmt: skip


def _stored_rows(account, batch, chunk=500):
    """The stored rows of the batch's groups, locked until the transaction ends; a query per 500 groups."""
    keys = sorted({key for _, _, key in batch})
    stored = {}
    for i in range(0, len(keys), chunk):
        rows = (
            LogAggregate.objects.select_for_update()
            .filter(account=account, group_key__in=keys[i : i + chunk])
            .exclude(group_key="")
        )  # lets PostgreSQL use the partial unique index
        stored.update((row.slot, row) for row in rows.order_by("pk"))
    return stored


class _Lost(Exception):
    """The checkpoint moved under us: roll back this batch."""


def _advance(account, container, info, offset, consumed, lines):
    if offset == 0:
        try:
            with transaction.atomic():
                BlobCheckpoint.objects.create(account=account, container=container, name=info.name,
                                              etag=info.etag, consumed=consumed, lines=lines)  # fmt: skip
            return True
        except IntegrityError:
            pass
    moved = BlobCheckpoint.objects.filter(
        account=account, container=container, name=info.name, consumed=offset
    )
    return bool(moved.update(etag=info.etag, consumed=offset + consumed, lines=F("lines") + lines))


def _add_volume(account, day, saved, raw, billable, agg_bytes):
    DailyVolume.objects.get_or_create(account=account, day=day)
    DailyVolume.objects.filter(account=account, day=day).update(
        raw_lines=F("raw_lines") + saved["lines"],
        raw_bytes=F("raw_bytes") + raw,
        billable_bytes=F("billable_bytes") + billable,
        rejected_lines=F("rejected_lines") + saved["rejected"],
        duplicate_lines=F("duplicate_lines") + saved["duplicates"],
        aggregate_records=F("aggregate_records") + saved["records"],
        aggregate_bytes=F("aggregate_bytes") + agg_bytes,
    )


def _remember(account, hour, digests):
    if not digests:
        return
    row, _ = SeenRequests.objects.get_or_create(account=account, hour=hour)
    SeenRequests.objects.filter(pk=row.pk).update(digests=bytes(row.digests) + digests)
    SeenRequests.objects.filter(account=account, hour__lt=hour - timedelta(days=2)).delete()


def _aware(text):
    moment = datetime.fromisoformat(text.rstrip("Z")[:26])
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _aggregate(account, row, source):
    values = {
        k: v for k, v in row.items() if k not in ("window_start", "window_end", "first_time", "last_time")
    }
    return LogAggregate(
        account=account,
        window_start=_aware(row["window_start"]),
        window_end=_aware(row["window_end"]),
        first_time=_aware(row["first_time"]),
        last_time=_aware(row["last_time"]),
        source_blob=source[:1100],
        group_key=LogAggregate.key_of(row),
        **values,
    )


def _finish(run, status, totals=None, rejects=None, message=""):
    totals = totals or {}
    run.status, run.finished_at, run.message = status, timezone.now(), message[:2000]
    for name in ("blobs_read", "bytes_read", "lines", "rejected", "duplicates", "records"):
        setattr(run, name, totals.get(name, 0))
    if rejects is not None:
        run.rejected_samples = rejects.samples
    run.save()
