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


def test_every_aggregate_names_the_batches_whose_ranges_hold_exactly_its_lines(azurite, settings):
    settings.STORAGE_LOGS_BATCH_BYTES = 48 * 1024  # an hour is stored in several batches
    account, spec = make_account("ascmonlogs2", azurite)
    access = access_of(account, azurite)
    logs = load_account(access, spec, T0, T0 + 2 * HOUR, seed=41)
    uploaded = {(blob.container, blob.name): blob.data for blob in logs}
    for hour in (T0, T0 + HOUR):
        ingest_account_hour(account.id, hour.isoformat())
    assert set(IngestRun.objects.filter(account=account).values_list("status", flat=True)) == {IngestRun.OK}

    batches = {batch.pk: batch for batch in LogBatch.objects.filter(account=account)}
    assert len(batches) > 2
    # The ranges cover every byte of every blob once: nothing read is unaccounted for.
    covered = {}
    for batch in batches.values():
        for container, name, etag, start, end in batch.ranges:
            assert container == "$logs" or container.startswith("insights-logs-")
            assert etag and 0 <= start < end
            covered.setdefault((container, name), []).append((start, end))
    for name, data in uploaded.items():
        spans = sorted(covered.pop(name))
        assert spans[0][0] == 0 and spans[-1][1] == len(data)
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert not covered

    # Reading an aggregate's batches again and grouping their lines gives back exactly its figures.
    policies = AggregationPolicy.current()
    stored = LogAggregate.objects.filter(account=account)
    assert stored.count() > 20
    regrouped = {}
    for row in stored:
        assert row.batches and set(row.batches) <= set(batches)
        key = tuple(sorted(row.batches))
        if key not in regrouped:
            aggregator = Aggregator(policies)
            for pk in key:
                for container, name, _, start, end in batches[pk].ranges:
                    data = blobs.read_range(access, container, name, start, end - start)
                    aggregator.add_text(data, parse.Rejects())
            regrouped[key] = {group["group_key"]: group for group in aggregator.close()}
        again = regrouped[key][str(row.group_key).replace("-", "")]
        assert (again["count"], again["request_bytes"], again["response_bytes"]) == (
            row.count, row.request_bytes, row.response_bytes,
        )  # fmt: skip
