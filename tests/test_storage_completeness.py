"""Nothing is silently missed: outages are caught up, changed blobs are read again or reported, every run ends
with its outcome, and lost tasks are queued again. Against Azurite, through the sweep and the task."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from ascmon.azure import blobs
from ascmon.simulator.storage_activity import AccountLogSpec, classic_log_blobs, load_account
from devices.choices import FindingKind
from storage_logs import parse, store
from storage_logs.models import AccountIngest, BlobCheckpoint, IngestRun, LogAggregate
from storage_logs.tasks import account_access as access_through_arm
from storage_logs.tasks import db_now, forget_old_digests, ingest_account_hour, sweep
from tests.test_storage_ingest import access_of, make_account, raw_totals, stored_totals

pytestmark = [pytest.mark.peers, pytest.mark.usefixtures("azurite_keys"), pytest.mark.django_db]
T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)
OUTAGE = datetime(2026, 9, 14, 9, tzinfo=UTC)  # a day no other test writes logs for
HOUR = timedelta(hours=1)


def hours(start, count):
    return [start + HOUR * n for n in range(count)]


def hours_read(account):
    """Every hour of the account's runs that ended ok (a run reads a span of hours)."""
    return {
        hour for run in IngestRun.objects.filter(account=account, status=IngestRun.OK) for hour in run.hours()
    }


def test_a_six_hour_outage_is_caught_up_by_the_next_sweep_and_every_line_reconciles(azurite):
    account, spec = make_account("ascmonlogs1", azurite)
    access = access_of(account, azurite)
    uploaded = load_account(access, spec, OUTAGE - 2 * HOUR, OUTAGE + HOUR, seed=31)
    sweep(now=OUTAGE + timedelta(minutes=20))
    assert AccountIngest.objects.get(account=account).read_until <= OUTAGE + HOUR
    # the workers were down for six hours; Azure kept writing logs
    uploaded += load_account(access, spec, OUTAGE + HOUR, OUTAGE + 7 * HOUR, seed=31)
    sweep(now=OUTAGE + 7 * HOUR + timedelta(minutes=20))
    assert set(hours(OUTAGE + HOUR, 6)) <= hours_read(account)
    assert stored_totals(account) == raw_totals(blob.data for blob in uploaded)


def test_hours_past_the_backfill_limit_become_a_log_hours_lost_finding(azurite, settings):
    account, _ = make_account("ascmonlogs1", azurite)
    settings.STORAGE_LOGS_MAX_BACKFILL = timedelta(hours=5)
    AccountIngest.objects.create(account=account, read_until=T0 - 8 * HOUR)
    sweep(now=T0 + timedelta(minutes=20))
    state = AccountIngest.objects.get(account=account)
    assert state.lost_hours == 3
    finding = account.device.findings.open().get(kind=FindingKind.LOG_HOURS_LOST)
    assert finding.subject == account.name and "3 hour(s)" in finding.explanation
    first = IngestRun.objects.filter(account=account).order_by("hour").first()
    assert first.hour == T0 - 5 * HOUR  # the oldest hour still within the limit is read


def ingest(account, hour):
    ingest_account_hour(account.id, hour.isoformat())
    return IngestRun.objects.filter(account=account, hour=hour).order_by("-id").first()


def test_a_rewritten_blob_is_read_again_and_lines_counted_before_are_not_counted_twice(azurite):
    account, spec = make_account("ascmonlogs2", azurite)
    access = access_of(account, azurite)
    (blob,) = classic_log_blobs(spec, T0, T0 + HOUR, seed=32)
    lines = blob.data.splitlines(keepends=True)
    blobs.ensure_container(access, "$logs")
    blobs.upload_blob(access, "$logs", blob.name, b"".join(lines[:200]), blob.metadata)
    ingest(account, T0)
    # The blob is replaced: 50 lines counted before, then lines never seen (its ETag and its prefix change).
    rewritten = b"".join(lines[:50] + lines[300:])
    blobs.upload_blob(access, "$logs", blob.name, rewritten, blob.metadata)
    run = ingest(account, T0)
    assert run.status == IngestRun.OK and run.changed_blobs == 1 and "read again" in run.message
    assert run.duplicates >= 50
    assert stored_totals(account) == raw_totals([b"".join(lines[:200]), rewritten])


def test_a_blob_that_shrank_below_its_checkpoint_is_read_again_from_its_start(azurite):
    account, spec = make_account("ascmonlogs1", azurite)
    access = access_of(account, azurite)
    (blob,) = classic_log_blobs(spec, T0 + HOUR, T0 + 2 * HOUR, seed=33)
    lines = blob.data.splitlines(keepends=True)
    blobs.ensure_container(access, "$logs")
    blobs.upload_blob(access, "$logs", blob.name, blob.data, blob.metadata)
    ingest(account, T0 + HOUR)
    shorter = b"".join(lines[-30:])  # fewer bytes than the checkpoint, 30 of them already counted
    blobs.upload_blob(access, "$logs", blob.name, shorter, blob.metadata)
    run = ingest(account, T0 + HOUR)
    assert run.status == IngestRun.OK and run.changed_blobs == 1 and run.duplicates == 30 and run.records == 0
    assert stored_totals(account) == raw_totals([blob.data])
    assert BlobCheckpoint.objects.get(account=account).consumed == len(shorter)


def test_a_blob_changed_after_its_digests_expired_is_left_alone_and_reported(azurite, settings):
    account, spec = make_account("ascmonlogs2", azurite)
    access = access_of(account, azurite)
    (blob,) = classic_log_blobs(spec, T0 + 2 * HOUR, T0 + 3 * HOUR, seed=34)
    blobs.ensure_container(access, "$logs")
    blobs.upload_blob(access, "$logs", blob.name, blob.data, blob.metadata)
    ingest(account, T0 + 2 * HOUR)
    before = stored_totals(account)
    settings.STORAGE_LOGS_DIGEST_RETENTION = timedelta(hours=1)
    forget_old_digests(now=T0 + 4 * HOUR)  # as the sweep does with hours older than the retention
    blobs.upload_blob(access, "$logs", blob.name, blob.data[: len(blob.data) // 3], blob.metadata)
    run = ingest(account, T0 + 2 * HOUR)
    assert run.status == IngestRun.LOST and "left alone" in run.message
    assert stored_totals(account) == before
    assert account.device.findings.open().filter(kind=FindingKind.LOG_HOURS_LOST).exists()


def test_an_error_that_is_not_azures_ends_the_run_as_failed_with_its_reason(azurite, monkeypatch):
    account, spec = make_account("ascmonlogs1", azurite)
    load_account(access_of(account, azurite), spec, T0 + 3 * HOUR, T0 + 4 * HOUR, seed=35)

    def broken(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(store, "store", broken)
    with pytest.raises(RuntimeError):
        ingest_account_hour(account.id, (T0 + 3 * HOUR).isoformat())
    run = IngestRun.objects.get(account=account)
    assert run.status == IngestRun.FAILED and "the database went away" in run.message and run.finished_at
    assert not LogAggregate.objects.filter(account=account).exists()


def test_a_secret_that_no_longer_decrypts_fails_the_run_and_says_so(azurite, monkeypatch):
    from storage_logs import tasks

    account, _ = make_account("ascmonlogs2", azurite)
    account.device.secret_encrypted = "not what the key encrypted"
    account.device.save()
    monkeypatch.setattr(tasks, "account_access", access_through_arm)
    with pytest.raises(Exception, match="ASCMON_ENCRYPTION_KEY"):
        ingest_account_hour(account.id, T0.isoformat())
    run = IngestRun.objects.get(account=account)
    assert run.status == IngestRun.FAILED and "SecretUnreadable" in run.message


def test_runs_whose_worker_died_or_whose_task_was_lost_are_closed_and_their_hours_read(azurite, settings):
    account, spec = make_account("ascmonlogs1", azurite)
    load_account(access_of(account, azurite), spec, T0, T0 + 2 * HOUR, seed=36)
    now = T0 + 5 * HOUR
    AccountIngest.objects.create(account=account, read_until=T0)
    long_ago = now - timedelta(hours=2)
    stuck, lost = (
        IngestRun.objects.create(
            task="account_hour", account=account, hour=hour, status=status, started_at=long_ago
        )
        for hour, status in ((T0, IngestRun.RUNNING), (T0 + HOUR, IngestRun.QUEUED))
    )
    sweep(now=now)
    for run in (stuck, lost):
        run.refresh_from_db()
        assert run.status == IngestRun.ABANDONED and run.finished_at and "queued again" in run.message
    assert {T0, T0 + HOUR} <= hours_read(account)
    assert LogAggregate.objects.filter(account=account).aggregate(n=Sum("count"))["n"] > 0


def test_the_sweep_and_the_runs_keep_the_databases_time_not_the_workers(azurite, monkeypatch):
    account, _ = make_account("ascmonlogs2", azurite)
    fast = datetime.now(UTC) + timedelta(hours=3)
    monkeypatch.setattr("django.utils.timezone.now", lambda: fast)  # this worker's clock runs 3 hours fast
    sweep()
    latest = IngestRun.objects.filter(account=account).order_by("-hour").first()
    assert latest.hour <= db_now() and abs(latest.started_at - db_now()) < timedelta(minutes=5)


def test_a_busy_accounts_hour_reconciles_exactly(azurite):
    from ascmon.simulator import busy_account

    account, _ = make_account("ascmonlogs1", azurite)
    spec = AccountLogSpec(account.name, "sub", "rg")
    access = access_of(account, azurite)
    blobs.ensure_container(access, "$logs")
    uploaded = list(busy_account.classic_blobs(spec, T0 + 6 * HOUR, 12_000, seed=37))
    for blob in uploaded:
        blobs.upload_blob(access, "$logs", blob.name, blob.data, blob.metadata)
    run = ingest(account, T0 + 6 * HOUR)
    accepted = Counter()
    for record in parse.records(b"".join(b.data for b in uploaded).decode(), parse.Rejects()):
        accepted[(record[parse.RID], record[parse.OPC])] += 1
    assert run.records > 12_000 // 6  # about one aggregate per four lines
    assert LogAggregate.objects.filter(account=account).aggregate(n=Sum("count"))["n"] == len(accepted)
    assert stored_totals(account) == raw_totals(b.data for b in uploaded)
