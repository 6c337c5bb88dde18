"""Aggregation is lossless: counts, byte sums and hourly reads per principal match the raw lines."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from ascmon.simulator.storage_activity import AccountLogSpec, classic_log_blobs, exfiltration_episode
from storage_logs import parse
from storage_logs.aggregate import DEFAULT_POLICIES, Aggregator, Policy, serialized_size

NOW = datetime(2026, 4, 10, 12, tzinfo=UTC)
SPEC = AccountLogSpec("lossless", "sub", "rg", profile="small")
EPISODE = exfiltration_episode("lossless", NOW, seed=9)


def raw_records():
    blobs = classic_log_blobs(SPEC, NOW - timedelta(days=2), NOW, seed=9, episode=EPISODE)
    records = parse.records(b"".join(blob.data for blob in blobs).decode(), parse.Rejects())
    unique = {(r[parse.RID], r[parse.OPC]): r for r in records}
    return records, list(unique.values())


RECORDS, UNIQUE = raw_records()


def aggregate(policies=None, chunks=7):
    engine = Aggregator(policies)
    size = len(RECORDS) // chunks + 1
    for start in range(0, len(RECORDS), size):
        engine.add(RECORDS[start : start + size])
    return engine, engine.close()


def test_the_sum_of_counts_is_the_number_of_accepted_lines_and_repeats_count_once():
    engine, rows = aggregate()
    assert len(RECORDS) > len(UNIQUE)  # the simulator repeats some lines, as Azure does
    assert sum(row["count"] for row in rows) == engine.accepted == len(UNIQUE)
    assert engine.duplicates == len(RECORDS) - len(UNIQUE)


def test_byte_sums_per_account_day_operation_principal_and_ip_equal_the_raw_sums():
    _, rows = aggregate()
    raw, agg = Counter(), Counter()
    for r in UNIQUE:
        key = (r[parse.DATE], r[parse.OP], parse.principal_of(r), r[parse.IP])
        raw[key + ("request",)] += int(r[parse.REQ])
        raw[key + ("response",)] += int(r[parse.RESP])
    for row in rows:
        key = (
            row["window_start"].date().isoformat(),
            row["operation"],
            (row["principal_kind"], row["principal_id"]),
        )
        agg[key + (row["client_ip"], "request")] += row["request_bytes"]
        agg[key + (row["client_ip"], "response")] += row["response_bytes"]
    assert raw == agg


def test_bytes_read_per_principal_per_hour_are_the_same_from_aggregates_and_raw_lines():
    _, rows = aggregate()
    raw, agg = Counter(), Counter()
    for r in UNIQUE:
        if r[parse.OP] == "GetBlob":
            raw[(parse.principal_of(r), f"{r[parse.DATE]}T{r[parse.HH]}")] += int(r[parse.RESP])
    for row in rows:
        if row["operation"] == "GetBlob":
            raw_key = ((row["principal_kind"], row["principal_id"]), f"{row['window_start']:%Y-%m-%dT%H}")
            agg[raw_key] += row["response_bytes"]
    assert raw == agg
    thief = ("sas_fields", EPISODE.principal)
    assert sum(v for (who, _), v in agg.items() if who == thief) >= EPISODE.bytes


def test_narrow_windows_and_loose_policies_still_reconcile():
    policies = {
        "read": Policy("read", ("operation", "principal"), 15),
        "write": Policy("write", ("principal", "client_ip", "object"), 1440),
    }
    engine, rows = aggregate(policies)
    assert sum(row["count"] for row in rows) == len(UNIQUE)
    reads = [row for row in rows if row["kind"] == "read"]
    assert all(row["window_start"].minute in (0, 15, 30, 45) for row in reads)
    assert all(row["user_agent"] == "" for row in reads)


def test_an_aggregate_keeps_counts_extremes_statuses_and_samples():
    _, rows = aggregate()
    row = max((r for r in rows if r["operation"] == "GetBlob"), key=lambda r: r["count"])
    assert row["count"] == sum(row["status_counts"].values())
    assert row["response_bytes_min"] <= row["response_bytes"] / row["count"] <= row["response_bytes_max"]
    assert row["latency_ms_min"] <= row["latency_ms_max"] and row["first_time"] <= row["last_time"]
    assert 1 < row["distinct_objects"] and 0 < len(row["sample_objects"]) <= 3
    assert len(row["sample_request_ids"]) == 2
    assert set(row["sample_request_ids"]) <= {r[parse.RID] for r in UNIQUE}


def test_text_comes_out_decoded_and_the_default_policies_reduce_the_volume():
    _, rows = aggregate()
    assert any(row["user_agent"].startswith('curl/8.4.0 "probe" <script>') for row in rows)
    assert DEFAULT_POLICIES["write"].window_minutes == 1440
    raw_bytes = sum(
        blob.data.__len__() for blob in classic_log_blobs(SPEC, NOW - timedelta(days=2), NOW, seed=9)
    )
    assert sum(serialized_size(row) for row in rows) < raw_bytes
