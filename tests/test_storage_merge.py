"""A batch's aggregates merge into the stored rows of the same group and window: one row per group."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from ascmon.azure import blobs
from storage_logs import parse
from storage_logs.models import DailyVolume, LogAggregate
from storage_logs.tasks import ingest_account_hour
from tests.test_storage_ingest import access_of, make_account

pytestmark = [pytest.mark.peers, pytest.mark.usefixtures("azurite_keys")]
DAY = datetime(2026, 5, 4, tzinfo=UTC)


def write_line(moment, request_id, size, obj="report.csv"):
    url = f"https://ascmonlogs1.blob.core.windows.net/data/{obj}"
    fields = [
        "2.0", f"{moment:%Y-%m-%dT%H:%M:%S.0000000Z}", "PutBlob", "Success", "201", "12", "10",
        "authenticated", "ascmonlogs1", "ascmonlogs1", "blob", f'"{url}"', f'"/ascmonlogs1/data/{obj}"',
        request_id, "0", "10.0.0.1:5000", "2021-08-06", "512", str(size), "200", "0", str(size), "",
        "", "", "", '"azcopy/10"', "", "", "", "", "", "", "", "", "", "", "",
    ]  # fmt: skip
    return ";".join(fields) + "\n"


def upload(account, azurite, hour, lines):
    access = access_of(account, azurite)
    blobs.ensure_container(access, "$logs")
    body = "".join(lines).encode()
    blobs.upload_blob(access, "$logs", f"blob/{hour:%Y/%m/%d/%H}00/000000.log", body, {})
    return body


@pytest.mark.django_db
def test_a_day_window_write_spanning_two_ingested_hours_is_one_row_equal_to_its_raw_lines(azurite):
    account, _ = make_account("ascmonlogs1", azurite)
    first, second = DAY + timedelta(hours=9), DAY + timedelta(hours=10)
    raw = [
        write_line(first + timedelta(minutes=5), "r-1", 1000),
        write_line(first + timedelta(minutes=9), "r-2", 30),
    ]
    raw2 = [write_line(second + timedelta(minutes=1), "r-3", 7000)]
    for record in parse.records("".join(raw + raw2), parse.Rejects()):
        assert record[parse.OP] == "PutBlob"
    upload(account, azurite, first, raw)
    ingest_account_hour(account.id, first.isoformat())
    upload(account, azurite, second, raw2)
    ingest_account_hour(account.id, second.isoformat())
    (row,) = LogAggregate.objects.filter(account=account)
    assert (row.count, row.request_bytes, row.request_bytes_min, row.request_bytes_max) == (3, 8030, 30, 7000)
    assert row.status_counts == {"201": 3} and row.distinct_objects == 1
    assert row.first_time.minute == 5 and row.last_time.hour == 10
    assert DailyVolume.objects.get(account=account).aggregate_records == 1


def writes_grouped_by_container(azurite):
    """An account whose write policy ignores the object: one group per container and day."""
    from storage_logs.models import AggregationPolicy

    AggregationPolicy.objects.update_or_create(
        kind="write", defaults={"by_object": False, "window_minutes": 1440}
    )
    account, _ = make_account("ascmonlogs1", azurite)
    return account, DAY + timedelta(hours=9), DAY + timedelta(hours=10)


@pytest.mark.django_db
def test_merged_objects_stay_exact_and_a_rerun_adds_nothing(azurite):
    account, first, second = writes_grouped_by_container(azurite)
    upload(account, azurite, first, [write_line(first, "r-1", 10, "a"), write_line(first, "r-2", 10, "b")])
    ingest_account_hour(account.id, first.isoformat())
    upload(account, azurite, second, [write_line(second, "r-3", 10, "b")])
    ingest_account_hour(account.id, second.isoformat())
    ingest_account_hour(account.id, second.isoformat())
    (row,) = LogAggregate.objects.filter(account=account)
    assert (row.count, row.distinct_objects) == (3, 2)
    volume = DailyVolume.objects.get(account=account)
    assert volume.aggregate_records == LogAggregate.objects.filter(account=account).count() == 1
    assert LogAggregate.objects.aggregate(n=Sum("count"))["n"] == volume.raw_lines == 3


@pytest.mark.django_db
def test_distinct_objects_stay_exact_when_a_group_has_more_objects_than_samples(azurite):
    account, first, second = writes_grouped_by_container(azurite)
    upload(account, azurite, first, [write_line(first, f"r-{o}", 10, o) for o in "abcd"])
    ingest_account_hour(account.id, first.isoformat())
    upload(account, azurite, second, [write_line(second, f"s-{o}", 10, o) for o in "de"])
    ingest_account_hour(account.id, second.isoformat())
    (row,) = LogAggregate.objects.filter(account=account)
    # a, b, c, d, then d again and e: five objects, though each batch kept only three samples
    assert (row.count, row.distinct_objects) == (6, 5)
    assert row.sample_objects == ["data/a", "data/b", "data/c"]


@pytest.mark.django_db
def test_rows_written_a_few_at_a_time_with_merges_between_are_the_rows_written_at_once(azurite, monkeypatch):
    """The engine hands rows over in chunks (new rows streamed, merged rows held and written apart): with
    a first chunk of one row, then chunks of two, and merged rows written as soon as they come, the stored
    rows are the same."""
    from storage_logs import rows

    def stored_rows():
        return sorted(
            LogAggregate.objects.filter(account=account).values_list(
                "window_start", "object_key", "count", "request_bytes", "distinct_objects", "status_counts"
            )
        )

    def ingest_both_hours():
        writes = [write_line(first, f"r-{o}", 10 + i, o) for i, o in enumerate("abcde")]
        upload(account, azurite, first, writes)
        ingest_account_hour(account.id, first.isoformat())
        upload(account, azurite, second, [write_line(second, f"s-{o}", 7, o) for o in "cdefgh"])
        ingest_account_hour(account.id, second.isoformat())

    account, _ = make_account("ascmonlogs1", azurite)
    first, second = DAY + timedelta(hours=9), DAY + timedelta(hours=10)
    ingest_both_hours()
    at_once = stored_rows()
    LogAggregate.objects.filter(account=account).delete()
    account.delete()
    from storage_logs.models import BlobCheckpoint, SeenRequests

    assert not BlobCheckpoint.objects.exists() and not SeenRequests.objects.exists()
    monkeypatch.setattr(rows, "FIRST_ROWS", 1)
    monkeypatch.setattr(rows, "EMIT_ROWS", 2)
    monkeypatch.setattr(rows, "MERGED_BYTES", 1)
    account, _ = make_account("ascmonlogs1", azurite)
    ingest_both_hours()
    assert stored_rows() == at_once
    assert len(at_once) == 8 and sum(row[2] for row in at_once) == 11


@pytest.mark.django_db
def test_deleting_a_device_deletes_its_aggregates(azurite):
    """Aggregates keep no database constraint to their account: deleting still takes them along."""
    account, _ = make_account("ascmonlogs1", azurite)
    upload(account, azurite, DAY, [write_line(DAY, "r-1", 10)])
    ingest_account_hour(account.id, DAY.isoformat())
    assert LogAggregate.objects.filter(account=account).count() == 1
    account.device.delete()
    assert not LogAggregate.objects.exists()


@pytest.mark.django_db
def test_a_big_batch_looks_up_only_keys_of_windows_with_stored_rows_and_merges_the_same(azurite, monkeypatch):
    """A batch of more than FEW_KEYS groups looks its stored rows up through a table of keys, and only the
    keys of windows that already hold rows of the account (a new hour's window holds none). With every
    batch taking that path, a late read merging into the previous hour's window, writes merging into the
    day's window and new reads give the rows the one-statement path gives."""
    from storage_logs import rows

    def read_line(moment, request_id, obj):
        return write_line(moment, request_id, 0, obj).replace(
            ";PutBlob;Success;201;", ";GetBlob;Success;200;"
        )

    def ingest_both_hours():
        upload(account, azurite, first, [
            write_line(first, "w-1", 10, "a"), write_line(first, "w-2", 10, "b"),
            read_line(first + timedelta(minutes=1), "r-1", "x"),
        ])  # fmt: skip
        ingest_account_hour(account.id, first.isoformat())
        upload(account, azurite, second, [
            write_line(second, "w-3", 20, "b"), write_line(second, "w-4", 20, "c"),
            read_line(first + timedelta(minutes=59), "r-2", "x"),  # late: the previous hour's window
            read_line(second + timedelta(minutes=2), "r-3", "x"), read_line(second, "r-4", "y"),
        ])  # fmt: skip
        ingest_account_hour(account.id, second.isoformat())
        return sorted(
            LogAggregate.objects.filter(account=account).values_list(
                "kind", "window_start", "object_key", "count", "request_bytes", "first_time", "last_time"
            )
        )

    account, _ = make_account("ascmonlogs1", azurite)
    first, second = DAY + timedelta(hours=9), DAY + timedelta(hours=10)
    one_statement = ingest_both_hours()
    account.delete()
    monkeypatch.setattr(rows, "FEW_KEYS", 0)
    account, _ = make_account("ascmonlogs1", azurite)
    assert ingest_both_hours() == one_statement
    by_window = {(kind, window.hour, obj): count for kind, window, obj, count, *_ in one_statement}
    # writes: one day window (b twice); reads: the 09:00 window twice (one line late), the 10:00 window new
    assert (
        by_window[("write", 0, "b")] == 2
        and by_window[("write", 0, "a")] == by_window[("write", 0, "c")] == 1
    )
    assert sum(count for (kind, hour, _), count in by_window.items() if kind == "read" and hour == 9) == 2
    assert sum(count for (kind, hour, _), count in by_window.items() if kind == "read" and hour == 10) == 2
