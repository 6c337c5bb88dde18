"""A worker reads an account's due hours of a day in one task: one listing per container, hours read in parts,
every line stored once, and an hour that cannot be read safely reported on its own while the others are
read. Against Azurite, through the sweep and the task."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from ascmon.azure import blobs
from ascmon.simulator.storage_activity import classic_log_blobs, load_account
from devices.choices import FindingKind
from storage_logs import ingest, tasks
from storage_logs.models import IngestRun
from storage_logs.tasks import forget_old_digests, ingest_account_hour, ingest_account_hours, spans, sweep
from tests.test_storage_ingest import access_of, make_account, raw_totals, stored_totals

HOUR = timedelta(hours=1)
DAY = datetime(2026, 10, 6, tzinfo=UTC)  # a day no other test writes logs for


def hours(start, count):
    return [start + HOUR * n for n in range(count)]


def test_spans_are_contiguous_hours_of_one_utc_day_up_to_the_limit(settings):
    settings.STORAGE_LOGS_SPAN_HOURS = 4
    due = [*hours(DAY - 3 * HOUR, 9), *hours(DAY + 8 * HOUR, 2)]  # 21:00 the day before to 05:00, a gap
    assert spans(due) == [
        (DAY - 3 * HOUR, DAY - HOUR),  # the day before, up to midnight
        (DAY, DAY + 3 * HOUR),  # four hours at most
        (DAY + 4 * HOUR, DAY + 5 * HOUR),
        (DAY + 8 * HOUR, DAY + 9 * HOUR),  # after the gap
    ]


@pytest.mark.parametrize(
    "name, is_json",
    [
        ("blob/2026/10/06/9900/000000.log", False),  # no hour 99
        ("blob/2026/10/06/1x00/000000.log", False),
        ("blob/2026/10/06/\u0661\u066200/000000.log", False),  # Arabic-Indic digits are not an hour
        ("blob/2026/10/06/12/000000.log", False),
        ("blob/2026/10/06/stray.log", False),
        ("resourceId=/X/y=2026/m=10/d=06/h=7/m=00/PT1H.json", True),
        ("resourceId=/X/y=2026/m=10/d=06/x=07/m=00/PT1H.json", True),
    ],
)
def test_a_blob_whose_name_is_off_the_log_layout_belongs_to_no_hour(name, is_json):
    prefix = name[: name.index("06/") + 3]
    assert ingest._hour_of(name, prefix, is_json, DAY) is None


def test_log_blob_names_give_their_hour():
    classic = "blob/2026/10/06/"
    assert ingest._hour_of(classic + "1300/000001.log", classic, False, DAY) == DAY + 13 * HOUR
    monitor = "resourceId=/X/y=2026/m=10/d=06/"
    assert ingest._hour_of(monitor + "h=07/m=00/PT1H.json", monitor, True, DAY) == DAY + 7 * HOUR


@pytest.mark.peers
@pytest.mark.usefixtures("azurite_keys")
@pytest.mark.django_db
def test_a_days_hours_are_one_task_with_one_listing_per_container_and_every_line_stored_once(
    azurite, monkeypatch, analyst_client
):
    account, spec = make_account("ascmonlogs1", azurite, diagnostic_logs=True)
    account.diagnostic_logs = True
    account.save()
    uploaded = load_account(access_of(account, azurite), spec, DAY + 2 * HOUR, DAY + 12 * HOUR, seed=41)
    assert {blob.container for blob in uploaded} >= {"$logs", "insights-logs-storageread"}
    # a stray blob in the day's folder is not a log of any hour and is not read
    blobs.upload_blob(access_of(account, azurite), "$logs", f"blob/{DAY:%Y/%m/%d}/stray.log", b"not a log\n")
    listings = []
    original = blobs.list_blobs
    monkeypatch.setattr(blobs, "list_blobs", lambda *args: listings.append(args[1:]) or original(*args))
    queued = []
    monkeypatch.setattr(tasks, "async_task", lambda path, *args: queued.append(args))
    tasks.queue_due_hours(account, DAY + 12 * HOUR + tasks.LATENESS + timedelta(minutes=20))
    due = [args for args in queued if datetime.fromisoformat(args[1]).date() == DAY.date()]
    assert len(due) == 1  # the day's due hours are one task
    ingest_account_hours(*due[0])

    run = IngestRun.objects.get(pk=due[0][3])
    assert run.status == IngestRun.OK and run.rejected == 0
    assert run.blobs_read == len(uploaded)  # the stray blob is not among them
    assert set(hours(DAY + 2 * HOUR, 10)) <= set(run.hours())
    containers = [container for container, _ in listings]
    assert len(containers) == len(set(containers)) == 4  # $logs and three Monitor containers, once each
    expected_lines, expected = raw_totals(blob.data for blob in uploaded)
    assert stored_totals(account) == (expected_lines, expected)  # both copies read, repeats counted once

    # the account page's runs show the span
    page = analyst_client.get(reverse("storage_logs:account", args=[account.pk])).content.decode()
    assert f"{run.hour:%Y-%m-%d %H}:00 to {run.last_hour:%H}:00" in page

    # run again: nothing new, nothing counted twice
    ingest_account_hours(*due[0][:3])
    assert stored_totals(account) == (expected_lines, expected)


@pytest.mark.peers
@pytest.mark.usefixtures("azurite_keys")
@pytest.mark.django_db
def test_an_hour_that_cannot_be_read_again_is_lost_on_its_own_and_the_spans_other_hours_are_read(
    azurite, settings, monkeypatch
):
    account, spec = make_account("ascmonlogs2", azurite)
    access = access_of(account, azurite)
    blobs.ensure_container(access, "$logs")
    (changed,) = classic_log_blobs(spec, DAY + 3 * HOUR, DAY + 4 * HOUR, seed=42)
    blobs.upload_blob(access, "$logs", changed.name, changed.data, changed.metadata)
    ingest_account_hour(account.id, (DAY + 3 * HOUR).isoformat())
    settings.STORAGE_LOGS_DIGEST_RETENTION = HOUR
    forget_old_digests(now=DAY + 6 * HOUR)  # the hour's request digests are gone
    blobs.upload_blob(access, "$logs", changed.name, changed.data[: len(changed.data) // 3], changed.metadata)
    before = raw_totals([changed.data])
    others = [
        blob
        for hour in (DAY + 1 * HOUR, DAY + 2 * HOUR, DAY + 4 * HOUR, DAY + 5 * HOUR)
        for blob in classic_log_blobs(spec, hour, hour + HOUR, seed=43)
    ]
    for blob in others:
        blobs.upload_blob(access, "$logs", blob.name, blob.data, blob.metadata)

    ingest_account_hours(account.id, DAY + HOUR, DAY + 5 * HOUR)

    span = IngestRun.objects.filter(account=account, hour=DAY + HOUR).get()
    assert span.status == IngestRun.OK and "03:00 not read" in span.message
    lost = IngestRun.objects.get(account=account, hour=DAY + 3 * HOUR, status=IngestRun.LOST)
    assert "left alone" in lost.message and lost.last_hour == lost.hour
    count, by_key = stored_totals(account)
    lines, expected = raw_totals([changed.data, *(blob.data for blob in others)])
    assert count == lines and by_key == expected  # the rewritten blob's lines once, as first read
    assert before[0] < lines
    assert account.device.findings.open().filter(kind=FindingKind.LOG_HOURS_LOST).exists()
    # the sweep does not queue the lost hour again
    queued = []
    monkeypatch.setattr(tasks, "async_task", lambda path, *args: queued.append(args))
    sweep(now=DAY + 5 * HOUR + tasks.LATENESS + 2 * HOUR)
    again = [hour for args in queued for hour in IngestRun.objects.get(pk=args[3]).hours()]
    assert DAY + 3 * HOUR not in again
