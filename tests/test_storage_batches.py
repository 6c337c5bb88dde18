"""Where an aggregate's lines are: every stored batch records the blob byte ranges it read, and every
aggregate names the batches that hold its lines, so an analyst's evidence can be read again from the
customer's blobs."""

from datetime import UTC, datetime, timedelta

import pytest

from ascmon.azure import blobs
from ascmon.simulator.storage_activity import load_account
from storage_logs import parse
from storage_logs.aggregate import Aggregator
from storage_logs.models import AggregationPolicy, IngestRun, LogAggregate, LogBatch
from storage_logs.tasks import ingest_account_hour
from tests.test_storage_ingest import access_of, make_account

pytestmark = [pytest.mark.peers, pytest.mark.usefixtures("azurite_keys"), pytest.mark.django_db]
T0 = datetime(2026, 9, 21, 14, tzinfo=UTC)  # a day no other test writes logs for
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("day", "version", "monitor"),
    [(21, "2.0", True), (22, "1.0", False)],
    ids=["classic 2.0 and Azure Monitor JSON", "classic 1.0"],
)
def test_the_lines_an_aggregate_names_are_exactly_the_lines_that_built_it(
    azurite, settings, day, version, monitor
):
    settings.STORAGE_LOGS_BATCH_BYTES = 16 * 1024  # an hour is stored in several batches
    t0 = T0.replace(day=day)
    account, spec = make_account("ascmonlogs2", azurite, logging_version=version, diagnostic_logs=monitor)
    access = access_of(account, azurite)
    logs = load_account(access, spec, t0, t0 + 2 * HOUR, seed=41)
    uploaded = {(blob.container, blob.name): blob.data for blob in logs}
    assert any(name[0] != "$logs" for name in uploaded) == monitor
    for hour in (t0, t0 + HOUR):
        ingest_account_hour(account.id, hour.isoformat())
    assert set(IngestRun.objects.filter(account=account).values_list("status", flat=True)) == {IngestRun.OK}

    batches = {batch.pk: batch for batch in LogBatch.objects.filter(account=account)}
    assert len(batches) > 2
    # The ranges cover every byte of every blob once: nothing read is unaccounted for.
    covered = {}
    for batch in batches.values():
        for container, name, etag, start, end in batch.ranges:
            assert etag and 0 <= start < end
            covered.setdefault((container, name), []).append((start, end))
    for name, data in uploaded.items():
        spans = sorted(covered.pop(name))
        assert spans[0][0] == 0 and spans[-1][1] == len(data)
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert not covered

    # Each aggregate's batches, read again and grouped by the engine, give back exactly its lines.
    policies = AggregationPolicy.current()
    stored = list(LogAggregate.objects.filter(account=account))
    assert len(stored) > 20 and len({len(row.batches) for row in stored}) > 1  # some span batches
    picked = []
    for row in stored:
        assert row.batches and set(row.batches) <= set(batches)
        aggregator, lines = Aggregator(policies), []
        for pk in sorted(row.batches):
            for container, name, _, start, end in batches[pk].ranges:
                data = blobs.read_range(access, container, name, start, end - start)
                for a, b in aggregator.select(data, row.group_key, parse.Rejects(), container != "$logs"):
                    lines.append((container, name, start + a, data[a:b]))
        records = [record_of(container, line) for container, _, _, line in lines]
        assert len(records) == row.count
        assert sum(int(r[parse.REQ] or 0) for r in records) == row.request_bytes
        assert sum(int(r[parse.RESP] or 0) for r in records) == row.response_bytes
        picked += [(c, n, at) for c, n, at, _ in lines]
    assert len(picked) == len(set(picked))  # no line belongs to two aggregates


def record_of(container, line):
    fmt = parse.CLASSIC if container == "$logs" else parse.MONITOR_JSON
    return parse.line_record(fmt, parse.Rejects(), line.rstrip(b"\r\n"))
