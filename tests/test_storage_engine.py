"""The C engine reads lines exactly as the Python parser does, and `reduce_logs` reconciles whatever it reads.

`Aggregator.add_text` parses in C and hands every line it does not follow to the Python parser;
`Aggregator.add` takes records the Python parser made. Both must give the same aggregates and the same
rejections, for Microsoft's samples, the simulator's quirky lines and thousands of damaged lines.
"""

import json
import os
import random
from datetime import UTC, datetime, timedelta

import pytest

from ascmon.simulator.storage_activity import AccountLogSpec, classic_log_blobs, monitor_log_blobs
from storage_logs import parse, reduce
from storage_logs.aggregate import Aggregator, billed_size, serialized_size
from tests import data

EXAMPLE_LINES = data.example_log_lines()
START = datetime(2026, 2, 2, 9, tzinfo=UTC)
SPEC = AccountLogSpec("engine", "sub", "rg", profile="small", diagnostic_logs=True)
# scripts/check-engine raises it for a long run under AddressSanitizer
FUZZ_SCALE = int(os.environ.get("ASCMON_FUZZ_SCALE", "1"))


def by_python(text):
    engine, rejects = Aggregator(), parse.Rejects()
    engine.add(parse.records(text, rejects), rejects)
    return sorted(engine.close(), key=repr), rejects.count, engine.duplicates


def by_engine(data, chunk=None):
    engine, rejects = Aggregator(), parse.Rejects()
    pieces = [data] if chunk is None else _whole_line_pieces(data, chunk)
    for piece in pieces:
        engine.add_text(piece, rejects)
    return sorted(engine.close(), key=repr), rejects.count, engine.duplicates


def _whole_line_pieces(data, size):
    lines = data.splitlines(keepends=True)
    return [b"".join(lines[i : i + size]) for i in range(0, len(lines), size)]


def simulated_lines(version="2.0"):
    spec = AccountLogSpec("engine", "sub", "rg", profile="small", logging_version=version)
    blobs = classic_log_blobs(spec, START, START + timedelta(hours=3), seed=4)
    return b"".join(blob.data for blob in blobs)


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_the_engine_and_the_python_parser_give_the_same_aggregates_for_simulated_logs(version):
    data = simulated_lines(version)
    assert by_engine(data, chunk=97) == by_python(data.decode())
    rows, rejected, duplicates = by_engine(data)
    assert rejected == 0 and duplicates > 0  # the simulator repeats lines, as Azure does
    assert sum(row["count"] for row in rows) + duplicates == data.count(b"\n")


def test_the_engine_reads_microsofts_sample_lines_like_the_python_parser():
    data = "".join(line + "\n" for line in EXAMPLE_LINES).encode()
    rows, rejected, duplicates = by_engine(data)
    # two of the samples share Microsoft's placeholder request id in one window: one counts as a repeat
    assert rejected == 0 and sum(row["count"] for row in rows) + duplicates == len(EXAMPLE_LINES)
    assert (rows, rejected, duplicates) == by_python(data.decode())


def test_the_engines_sha256_is_sha256_for_every_length():
    import hashlib

    from storage_logs.aggregate import engine

    rng = random.Random(3)
    for size in [*range(0, 200), 1000, 4096, 65537]:
        data = rng.randbytes(size)
        assert engine().sha256(data) == hashlib.sha256(data).digest(), size


def test_each_row_carries_its_export_and_billed_sizes_as_the_reference_functions_compute_them():
    data = simulated_lines() + "".join(line + "\n" for line in EXAMPLE_LINES).encode() + monitor_lines()
    rows, _, _ = by_engine(data)
    assert len(rows) > 100
    for row in rows:
        assert row["export_size"] == serialized_size(row) and row["billed_size"] == billed_size(row)
        assert 0 < row["billed_size"] < row["export_size"]


MUTATIONS = [";", '"', "&amp;", "&#59;", "&x", "\r", "٣", "1234567890123456789", " ", "é", "\x00", ":",
             "/", "?", "\\", "&quot;", "::1", "2026-13-45", "99", ""]  # fmt: skip


def damaged(line, rng):
    out = line
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(out) + 1)
        if rng.random() < 0.3:
            out = out[:at] + out[at + rng.randint(1, 4) :]
        else:
            out = out[:at] + rng.choice(MUTATIONS) + out[at:]
    return out


def test_damaged_lines_are_read_alike_or_rejected_alike_by_both_parsers():
    rng = random.Random(7)
    sources = EXAMPLE_LINES + simulated_lines().decode().splitlines()[:300]
    outcomes = []
    for _ in range(3000 * FUZZ_SCALE):
        line = damaged(rng.choice(sources), rng)
        engine = by_engine((line + "\n").encode())
        assert engine == by_python(line + "\n"), line
        outcomes.append(engine[1])
    assert 500 * FUZZ_SCALE < outcomes.count(0) and 500 * FUZZ_SCALE < outcomes.count(1)  # both kinds


def test_a_line_with_an_impossible_date_or_a_19_digit_size_is_rejected_with_a_reason():
    good = EXAMPLE_LINES[0]
    bad_date = good.replace("2014-06-19T", "2014-13-45T", 1)
    parts = good.split(";")
    parts[18] = "1" * 19  # request-packet-size
    too_big = ";".join(parts)
    rejects = parse.Rejects()
    engine = Aggregator()
    engine.add_text(f"{good}\n{bad_date}\n{too_big}\n".encode(), rejects)
    assert rejects.count == 2 and sum(row["count"] for row in engine.close()) == 1
    reasons = " ".join(sample["reason"] for sample in rejects.samples)
    assert "bad time" in reasons and "18 digits" in reasons


def test_a_monitor_event_with_a_negative_duration_is_rejected_not_summed():
    spec = AccountLogSpec("engine", "sub", "rg", profile="small", diagnostic_logs=True)
    blob = next(iter(monitor_log_blobs(spec, START, START + timedelta(hours=1), seed=4)))
    first, *rest = blob.data.decode().splitlines()
    event = json.loads(first)
    event["durationMs"] = -5
    rejects = parse.Rejects()
    engine = Aggregator()
    engine.add_text("\n".join([json.dumps(event), *rest, ""]).encode(), rejects)
    assert rejects.count == 1 and "durationMs" in rejects.samples[0]["reason"]
    assert sum(row["count"] for row in engine.close()) + engine.duplicates == len(rest)


def test_reduce_logs_reconciles_files_with_long_lines_damaged_lines_and_json(tmp_path, monkeypatch):
    monkeypatch.setattr(reduce, "CHUNK_BYTES", 4096)  # many chunk boundaries, lines longer than a chunk
    long_ua = EXAMPLE_LINES[0].replace("WA-Storage/4.0.1", "x" * 9000, 1)
    classic = simulated_lines() + f"{long_ua}\ngarbage;line\n\n".encode() + EXAMPLE_LINES[1].encode()
    (tmp_path / "classic.log").write_bytes(classic)
    blobs = monitor_log_blobs(SPEC, START, START + timedelta(hours=2), seed=4)
    (tmp_path / "monitor.json").write_bytes(b"".join(blob.data for blob in blobs))
    result = reduce.reduce_paths([tmp_path], workers=1)
    assert result["reconciled"] and result["rejected"] == 2
    monitor_lines = (tmp_path / "monitor.json").read_bytes().count(b"\n")
    assert result["lines"] == classic.count(b"\n") + 1 + monitor_lines
    whole = by_python(classic.decode())
    assert sum(row["count"] for row in whole[0]) + whole[2] == classic.count(b"\n") + 1 - 2


def test_a_monitor_event_with_a_lone_surrogate_in_its_user_agent_is_aggregated_not_a_crash():
    blob = next(iter(monitor_log_blobs(SPEC, START, START + timedelta(hours=1), seed=4)))
    first = json.loads(blob.data.decode().splitlines()[0])
    first["properties"]["userAgentHeader"] = "evil\ud800agent"  # json.dumps writes it as \ud800
    engine = Aggregator()
    engine.add_text((json.dumps(first) + "\n").encode(), parse.Rejects())
    (row,) = engine.close()
    assert row["count"] == 1 and row["user_agent"] == "evil?agent"  # UTF-8 has no surrogates


def test_monitor_events_of_the_wrong_shape_are_rejected_one_by_one_and_the_rest_is_read():
    blob = next(iter(monitor_log_blobs(SPEC, START, START + timedelta(hours=1), seed=4)))
    good = blob.data.decode().splitlines()[:3]
    event = json.loads(good[0])
    wrong = [
        {**event, "time": 1767225600},
        {**event, "operationName": None},
        {**event, "properties": "GetBlob"},
        {**event, "identity": {**event.get("identity", {}), "requester": ["x"]}},
        [event],
    ]
    line_separator = json.dumps({**event, "correlationId": "a\u2028b"}, ensure_ascii=False)
    lines = [*good, *map(json.dumps, wrong), line_separator, ""]
    rejects, engine = parse.Rejects(), Aggregator()
    assert engine.add_text("\n".join([*lines, ""]).encode(), rejects) == len(lines)
    assert rejects.count == len(wrong) + 1  # the empty line too; U+2028 inside a string is no line break
    assert sum(row["count"] for row in engine.close()) + engine.duplicates == len(good) + 1


def monitor_lines():
    blobs = monitor_log_blobs(SPEC, START, START + timedelta(hours=3), seed=4)
    return b"".join(blob.data for blob in blobs)


def test_the_engine_reads_azure_monitor_json_like_the_python_parser():
    data = monitor_lines()
    assert b'\\"probe\\"' in data  # escaped quotes in a user agent, decoded by both
    assert by_engine(data, chunk=53) == by_python(data.decode())
    rows, rejected, duplicates = by_engine(data)
    assert rejected == 0 and sum(row["count"] for row in rows) + duplicates == data.count(b"\n")


JSON_MUTATIONS = ['\\"', "\\u00e9", "\\ud800", "\\ud83d\\ude00", "\\n", "null", "1.5", '"12"', ",", "}", "{",
                  '"identity":null,', '"properties":{},', '"statusCode":"Unknown",', "-1", "1e3", "NaN",
                  " ", "\t", "\x01", "é", "[]", '"time":5,', '"durationMs":007,', "\\x"]  # fmt: skip


def test_damaged_monitor_events_are_read_alike_or_rejected_alike_by_both_parsers():
    rng = random.Random(5)
    sources = monitor_lines().decode().splitlines()[:200]
    outcomes = []
    for _ in range(2000 * FUZZ_SCALE):
        line = rng.choice(sources)
        for _ in range(rng.randint(1, 2)):
            at = rng.randrange(1, len(line))
            line = line[:at] + rng.choice(JSON_MUTATIONS) + line[at:]
        engine = by_engine((line + "\n").encode())
        assert engine == by_python(line + "\n"), line
        outcomes.append(engine[1])
    assert 300 * FUZZ_SCALE < outcomes.count(0) and 300 * FUZZ_SCALE < outcomes.count(1)


# --- the engine cannot be pushed into wrong numbers or crashes ------------------------------------------


def huge_events(count, size=10**18 - 1):
    """Monitor JSON events whose response is `size` bytes (as big as a log line may say)."""
    line = monitor_lines().decode().splitlines()[0]
    event = json.loads(line)
    out = []
    for index in range(count):
        event["correlationId"] = f"huge-{index}"
        event["properties"]["responseHeaderSize"] = 0
        event["properties"]["responseBodySize"] = size
        out.append(json.dumps(event))
    return "".join(item + "\n" for item in out).encode()


def test_lines_whose_bytes_would_overflow_a_sum_are_rejected_with_a_reason_not_summed_negative():
    data = huge_events(12)
    for rows, rejected, _ in (by_engine(data), by_python(data.decode())):
        assert rejected == 3  # 9 × (10**18 - 1) fits in 64 bits, a tenth would not
        assert sum(row["count"] for row in rows) == 9
        assert all(row["response_bytes"] > 0 for row in rows)
    engine, rejects = Aggregator(), parse.Rejects()
    engine.add_text(data, rejects)
    assert "overflow" in rejects.samples[0]["reason"]
    assert engine.figures["raw_response"] == 9 * (10**18 - 1)


def test_overflowing_lines_among_damaged_ones_are_read_alike_by_both_parsers():
    rng = random.Random(11)
    lines = monitor_lines().decode().splitlines()[:50] + huge_events(15).decode().splitlines()
    for _ in range(20 * FUZZ_SCALE):
        rng.shuffle(lines)
        text = "".join(line + "\n" for line in lines)
        assert by_engine(text.encode(), chunk=7) == by_python(text)


def test_an_engine_used_without_init_or_initialised_twice_raises_instead_of_crashing():
    from storage_logs.aggregate import engine

    bare = engine().Engine.__new__(engine().Engine)
    for call in (lambda: bare.feed(b"x\n", 0, None, None), bare.figures, bare.keys, bare.take_fresh,
                 lambda: bare.emit("rows"), lambda: bare.know(b""), lambda: bare.absorb([]),
                 lambda: bare.select(b"x\n", 0, None, None, bytes(16))):  # fmt: skip
        with pytest.raises(RuntimeError, match="__init__"):
            call()
    aggregator = Aggregator()
    with pytest.raises(RuntimeError, match="once"):
        aggregator._engine.__init__([((0,), 60, 0)] * 4, int, str, str)
    aggregator.add_text(simulated_lines(), parse.Rejects())  # still whole
    assert aggregator.figures["accepted"] > 0
    with pytest.raises(ValueError, match="16 bytes"):
        aggregator._engine.select(simulated_lines(), parse.CLASSIC, None, None, b"short")


def test_engines_feed_in_parallel_threads_and_one_engine_refuses_a_second_caller():
    """feed runs without the GIL: engines in different threads give what they give alone, and an engine
    entered again while it is feeding (here from the Python parser's callback) refuses instead of racing."""
    import threading

    data = simulated_lines()
    expected, _, _ = by_engine(data)
    results = [None] * 4

    def run(i):
        aggregator = Aggregator()
        aggregator.add_text(data, parse.Rejects())
        results[i] = sorted(aggregator.close(), key=repr)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4

    aggregator = Aggregator()

    def reenter(line):
        aggregator._engine.keys()

    with pytest.raises(RuntimeError, match="in use"):
        aggregator._engine.feed(b"not a log line\n", parse.CLASSIC, reenter, None)
    aggregator.add_text(data, parse.Rejects())  # usable again afterwards
    assert sorted(aggregator.close(), key=repr) == expected


def test_the_engines_count_of_separators_and_quotes_is_pythons():
    from storage_logs import billing
    from storage_logs.aggregate import engine

    data = simulated_lines() + b'x;"y";\xff"\n'
    assert engine().syntax_bytes(data) == data.count(b";") + data.count(b'"') > 0
    lines = data.count(b"\n")
    in_c = billing.raw_billed(data, lines, False, engine().syntax_bytes)
    assert in_c == billing.raw_billed(data, lines, False)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 4079, 4080, 4081, 65_536 + 7])
def test_the_separator_count_is_exact_at_every_length_and_when_every_byte_is_one(size):
    """The engine counts 16 bytes at a time in byte-wide lanes summed every 255 rounds (4,080 bytes):
    the counts around those lengths, and of data made only of separators, are Python's."""
    from storage_logs.aggregate import engine

    rng = random.Random(size)
    mixed = bytes(rng.choice(b';"a;\n\xff') for _ in range(size))
    for lines in (mixed, b";" * size, b'"' * size, mixed[1:]):
        assert engine().syntax_bytes(lines) == lines.count(b";") + lines.count(b'"')


def test_a_failure_while_closing_groups_changes_nothing_and_leaks_nothing():
    data = simulated_lines()
    expected, _, _ = by_engine(data)
    aggregator = Aggregator()
    aggregator.add_text(data, parse.Rejects())
    key = aggregator.keys().split(b"\n")[0].split(b"\t")[1].decode()
    with pytest.raises(ValueError, match="time"):
        aggregator.absorb([(key, 1, "not a time", "", *[0] * 12, "{}", "[]", "[]", b"", 0, 0, "[]")])
    with pytest.raises(ValueError, match="JSON"):
        aggregator.absorb([(key, 1, "2026-01-01 00:00:00", "2026-01-01 00:00:00", *[0] * 12, "{}", "[]", "[]",
                            b"", 0, 0, "[1,")])  # fmt: skip
    with pytest.raises(KeyError):
        aggregator.absorb([("f" * 32, 1, "2026-01-01 00:00:00", "2026-01-01 00:00:00", *[0] * 12, "{}", "[]",
                            "[]", b"", 0, 0, "[]")])  # fmt: skip
    with pytest.raises(ValueError, match="mode"):
        aggregator.emit("nonsense")
    assert sorted(aggregator.close(), key=repr) == expected


def test_forged_operation_and_container_names_never_reach_a_chart():
    import re

    from storage_logs import charts
    from storage_logs.baseline import HourPoint

    line = monitor_lines().decode().splitlines()[0]
    link = '"operationName":"<a href=\\"https://evil.example\\">GetBlob</a>"'
    forged = re.sub(r'"operationName":"\w+"', lambda _: link, line)
    forged2 = line.replace('"objectKey":"/engine/', '"objectKey":"/engine/<b>x</b>')
    assert forged != line and forged2 != line
    for text in (forged, forged2):
        rows, rejected, _ = by_engine((text + "\n").encode())
        assert rejected == 1 and rows == []
        assert by_python(text + "\n")[1] == 1
    hour = datetime(2026, 2, 2, 9, tzinfo=UTC)
    figure = charts.operations_per_hour([HourPoint(hour, 0, {'<a href="x">GetBlob</a>': 1})], hour, hour)
    assert figure["data"][0]["name"] == "&lt;a href=&quot;x&quot;&gt;GetBlob&lt;/a&gt;"
