"""Ingestion from Azurite: checkpoints, reruns, grown blobs, repeated and late lines, Monitor JSON."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from ascmon.azure import blobs
from ascmon.simulator.storage_activity import classic_log_blobs, load_account
from storage_logs import parse
from storage_logs.models import BlobCheckpoint, DailyVolume, IngestRun, LogAggregate
from storage_logs.tasks import ingest_account_hour, ingest_device
from tests import factories

pytestmark = [pytest.mark.peers, pytest.mark.usefixtures("azurite_keys")]
SUB = "00000000-0000-0000-0000-00000000a001"


def make_account(name, azurite, **flags):
    return factories.storage_account(name, blob_endpoint=azurite.endpoint(name), **flags)


def access_of(account, azurite):
    return blobs.BlobAccess(account.blob_endpoint, account.name, azurite.accounts[account.name])


def raw_totals(datas):
    """What the raw lines say: unique requests, and bytes per (day, operation, principal, IP)."""
    seen, lines, by_key = set(), 0, Counter()
    for data in datas:
        for record in parse.records(data.decode(), parse.Rejects()):
            ident = (record[parse.RID], record[parse.OPC])
            if ident in seen:
                continue
            seen.add(ident)
            lines += 1
            key = (record[parse.DATE], record[parse.OP], parse.principal_of(record), record[parse.IP])
            by_key[key + ("response",)] += int(record[parse.RESP])
            by_key[key + ("request",)] += int(record[parse.REQ])
    return lines, by_key


def stored_totals(account):
    by_key = Counter()
    for row in LogAggregate.objects.filter(account=account):
        key = (
            row.window_start.date().isoformat(),
            row.operation,
            (row.principal_kind, row.principal_id),
            row.client_ip,
        )
        by_key[key + ("response",)] += row.response_bytes
        by_key[key + ("request",)] += row.request_bytes
    count = LogAggregate.objects.filter(account=account).aggregate(n=Sum("count"))["n"] or 0
    return count, by_key


HOUR = datetime(2026, 3, 2, 10, tzinfo=UTC)


@pytest.mark.django_db
def test_an_ingested_hour_reconciles_with_its_raw_lines_and_a_rerun_adds_nothing(azurite):
    account, spec = make_account("ascmonlogs1", azurite)
    uploaded = load_account(access_of(account, azurite), spec, HOUR, HOUR + timedelta(hours=1), seed=11)
    ingest_account_hour(account.id, HOUR.isoformat())
    first = stored_totals(account)
    assert first == raw_totals(blob.data for blob in uploaded)
    ingest_account_hour(account.id, HOUR.isoformat())
    assert stored_totals(account) == first
    run = IngestRun.objects.filter(account=account).first()
    assert run.status == IngestRun.OK and run.blobs_read == 0 and run.lines == 0
    volume = DailyVolume.objects.get(account=account)
    assert volume.raw_lines == sum(blob.data.count(b"\n") for blob in uploaded)
    assert 0 < volume.aggregate_bytes < volume.raw_bytes


@pytest.mark.django_db
def test_a_grown_blob_resumes_at_its_offset_and_a_partial_line_waits(azurite):
    account, spec = make_account("ascmonlogs2", azurite)
    access = access_of(account, azurite)
    hour = HOUR + timedelta(days=1)
    (blob,) = classic_log_blobs(spec, hour, hour + timedelta(hours=1), seed=5)
    blobs.ensure_container(access, "$logs")
    half = len(blob.data) // 2  # almost surely mid-line
    blobs.upload_blob(access, "$logs", blob.name, blob.data[:half], blob.metadata)
    ingest_account_hour(account.id, hour.isoformat())
    checkpoint = BlobCheckpoint.objects.get(account=account)
    assert (
        0 < checkpoint.consumed <= half and blob.data[checkpoint.consumed - 1 : checkpoint.consumed] == b"\n"
    )
    blobs.upload_blob(access, "$logs", blob.name, blob.data, blob.metadata)
    ingest_account_hour(account.id, hour.isoformat())
    assert stored_totals(account) == raw_totals([blob.data])
    assert BlobCheckpoint.objects.get(account=account).consumed == len(blob.data)


@pytest.mark.django_db
def test_repeated_and_late_lines_in_a_later_blob_do_not_change_the_totals(azurite):
    account, spec = make_account("ascmonlogs1", azurite)
    access = access_of(account, azurite)
    hour = HOUR + timedelta(days=2)
    uploaded = load_account(access, spec, hour, hour + timedelta(hours=1), seed=3)
    ingest_account_hour(account.id, hour.isoformat())
    before = stored_totals(account)
    lines = uploaded[0].data.splitlines(keepends=True)
    repeated = b"".join(lines[:25])  # Azure wrote these again, an hour later
    later = hour + timedelta(hours=1)
    blobs.upload_blob(
        access, "$logs", f"blob/{later:%Y/%m/%d/%H}00/000000.log", repeated, uploaded[0].metadata
    )
    ingest_account_hour(account.id, later.isoformat())
    assert stored_totals(account) == before
    run = IngestRun.objects.filter(account=account, hour=later).first()
    assert run.duplicates == 25 and run.records == 0


@pytest.mark.django_db
def test_diagnostic_logs_are_read_from_the_insights_containers(azurite):
    account, spec = make_account("ascmonlogs2", azurite, logging_version=None, diagnostic_logs=True)
    account.logging_read = account.logging_write = account.logging_delete = False
    account.save()
    hour = HOUR + timedelta(days=3)
    uploaded = load_account(access_of(account, azurite), spec, hour, hour + timedelta(hours=1), seed=8)
    assert {blob.container for blob in uploaded} >= {"insights-logs-storageread"}
    ingest_account_hour(account.id, hour.isoformat())
    count, _ = stored_totals(account)
    assert count == raw_totals(blob.data for blob in uploaded)[0] > 0


@pytest.mark.django_db
def test_a_device_run_queues_each_hour_of_the_first_day_of_each_logging_account(azurite, monkeypatch):
    account, _ = make_account("ascmonlogs1", azurite)
    queued = []
    monkeypatch.setattr("storage_logs.tasks.async_task", lambda *args: queued.append(args))
    assert ingest_device(account.device_id, now=HOUR) == 25
    # one task per span of contiguous hours within a UTC day, each with its queued run
    covered = []
    for path, account_id, first, last, run_id in queued:
        assert (path, account_id) == ("storage_logs.tasks.ingest_account_hours", account.id)
        first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
        assert first.date() == last.date()
        run = IngestRun.objects.get(pk=run_id)
        assert (run.status, run.hour, run.last_hour) == (IngestRun.QUEUED, first, last)
        covered += run.hours()
    assert covered == [HOUR - timedelta(hours=24 - n) for n in range(25)]
    assert len(queued) == len({hour.date() for hour in covered})


@pytest.mark.django_db
def test_a_batch_another_worker_stored_first_is_dropped_and_the_hour_goes_on_from_its_checkpoint(
    azurite, monkeypatch
):
    from storage_logs import store

    account, spec = make_account("ascmonlogs2", azurite)
    hour = HOUR + timedelta(days=4)
    load_account(access_of(account, azurite), spec, hour, hour + timedelta(hours=1), seed=6)
    original = store.store

    def raced(batch, *args):
        # Another worker on another machine stored this very batch a moment before this one.
        for progress in batch.blobs.values():
            BlobCheckpoint.objects.update_or_create(
                account_id=batch.account_id, container=progress.container, name=progress.name,
                defaults={"consumed": progress.end, "etag": progress.etag},
            )  # fmt: skip
        return original(batch, *args)

    monkeypatch.setattr(store, "store", raced)
    ingest_account_hour(account.id, hour.isoformat())
    assert LogAggregate.objects.filter(account=account).count() == 0
    assert not DailyVolume.objects.filter(account=account).exists()
    assert IngestRun.objects.get(account=account).status == IngestRun.OK
