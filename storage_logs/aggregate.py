"""Lossless aggregation of log records: operations that are "the same" under a policy become one record.

A policy per operation kind (read, write, delete, other) names the fields that make two operations the
same and the width of the time window. An aggregate keeps the count, first and last time, sums and
min/max of bytes and latencies, status code counts, its distinct objects (exactly, also across merges) with
the three smallest as samples, and the first two request ids. Lines Azure wrote twice (same request id and
operation count) count once.

The work is done by the C engine (storage_logs/_engine*.c, built by scripts/setup): it parses lines,
aggregates them and hands the aggregates over as rows ready to store (ROW_COLUMNS), each with its export
size (`export` below is the reference the engine is tested against) and its group key. Nothing here imports
the engine until an Aggregator is made, so the rest of ascmon works without it. No Django imports.
"""

import functools
import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage_logs import parse, sas
from storage_logs.parse import (
    APPID,
    AUTH,
    CONTAINER,
    DATE,
    HCLASS,
    HH,
    IP,
    OBJECT,
    OID,
    OP,
    REQUESTER,
    SIG,
    UA,
    UPN,
)

KINDS = ("read", "write", "delete", "other")
FIELD_INDICES = {
    "operation": (OP,),
    "status_class": (HCLASS,),
    "auth_type": (AUTH,),
    "principal": (AUTH, REQUESTER, SIG, OID, APPID, UPN),
    "client_ip": (IP,),
    "user_agent": (UA,),
    "container": (CONTAINER,),
    "object": (CONTAINER, OBJECT),
}
FIELDS = tuple(FIELD_INDICES)
WINDOW_CHOICES = (5, 10, 15, 20, 30, 60, 1440)
SAMPLES = 3
SAMPLE_IDS = 2
LATENESS = timedelta(hours=2)  # Azure delivers log lines up to this late; they still merge into their window
READ_PREFIXES = ("Get", "List", "Query", "Peek", "Head")
CLEAN_HEADER = parse.CLEAN_HEADER.encode()
POLICY_PRINCIPAL, POLICY_OBJECT = 1, 2  # what a policy's records name (the engine's policy flags)
# The columns of a row as the engine hands it over (and of LogAggregate), in order.
ROW_COLUMNS = (
    "account_id", "kind", "window_start", "window_end", "operation", "status_class", "auth_type",
    "principal_kind", "principal_id", "principal_label", "upn", "app_id", "client_ip", "user_agent",
    "container", "object_key", "count", "first_time", "last_time", "request_bytes", "request_bytes_min",
    "request_bytes_max", "response_bytes", "response_bytes_min", "response_bytes_max", "latency_ms_sum",
    "latency_ms_min", "latency_ms_max", "server_ms_sum", "server_ms_min", "server_ms_max", "status_counts",
    "distinct_objects", "sample_objects", "sample_request_ids", "object_digests", "group_key", "export_size",
    "billed_size", "batches",
)  # fmt: skip
SETUP = "scripts/setup"


def kind_of(operation):
    if operation.startswith("Delete"):
        return "delete"
    if operation.startswith(READ_PREFIXES):
        return "read"
    if operation.startswith(("Put", "Set", "Append", "Copy", "Create", "Rename", "Undelete", "Snapshot")):
        return "write"
    return "other"


@dataclass(frozen=True)
class Policy:
    """Which fields make operations of one kind the same, and how wide a window is (minutes)."""

    kind: str
    fields: tuple
    window_minutes: int = 60

    @functools.cached_property
    def key_indices(self):
        window = (DATE,) if self.window_minutes >= 1440 else (DATE, HH)
        seen = list(window)
        for name in self.fields:
            seen += [index for index in FIELD_INDICES[name] if index not in seen]
        return tuple(seen)

    @property
    def flags(self):
        return POLICY_PRINCIPAL * ("principal" in self.fields) + POLICY_OBJECT * ("object" in self.fields)


_SAME = ("operation", "status_class", "principal", "client_ip", "user_agent")
# Writes and deletes keep the object; a day's window lets rewrites of one object fold together.
DEFAULT_POLICIES = {
    "read": Policy("read", (*_SAME, "container"), 60),
    "write": Policy("write", (*_SAME, "object"), 1440),
    "delete": Policy("delete", (*_SAME, "object"), 1440),
    "other": Policy("other", (*_SAME, "container"), 60),
}


@functools.cache
def engine():
    """The compiled engine, its constants checked against the ones defined here and in parse.py."""
    try:
        from storage_logs import _engine
    except ImportError as error:
        raise ImportError(
            f"the storage log engine (storage_logs/_engine*.c) is not built: run {SETUP}"
        ) from error
    expected = {
        "WIDTH": parse.WIDTH,
        "SAMPLES": SAMPLES,
        "SAMPLE_IDS": SAMPLE_IDS,
        "FMT_CLASSIC": parse.CLASSIC,
        "FMT_CLEAN": parse.CLEAN_CSV,
        "FMT_JSON": parse.MONITOR_JSON,
        "ROW_COLUMNS": ROW_COLUMNS,
        "POSITIONS": {name: getattr(parse, name) for name in _engine.POSITIONS},
    }
    drift = [name for name, value in expected.items() if getattr(_engine, name) != value]
    if drift:
        raise ImportError(f"storage_logs/_engine is out of date ({', '.join(drift)} differ): run {SETUP}")
    return _engine


class Aggregator:
    """Feed it record lists with `add` or bytes of whole lines with `add_text`; take the aggregates with
    `emit` (rows ready to store, or only their figures) or `close` (dicts). For ingestion, `know` the
    request digests counted before, merge the stored rows of the open groups with `keys` and `absorb`, and
    keep the digests of what was stored with `take_fresh`."""

    def __init__(self, policies=None):
        self.policies = {**DEFAULT_POLICIES, **(policies or {})}
        by_index = [self.policies[kind] for kind in KINDS]
        self._engine = engine().Engine(
            [(policy.key_indices, policy.window_minutes, policy.flags) for policy in by_index],
            _kind_index,
            sas.sas_fields,
            html.unescape,
        )

    def add(self, records, rejects=None):
        """Records are parse's tuples (SIG settled)."""
        self._engine.add_records(records, rejects.add if rejects is not None else None)

    def add_text(self, data, rejects, is_json=None):
        """Whole lines of one format (classic, Azure Monitor JSON or the CSV-clean variant), as bytes or a
        memoryview; returns the number of lines (a CSV header line is not one). The format is read from
        the first line unless `is_json` says."""
        data, fmt = _format(data, is_json)
        lines, _ = self._engine.feed(
            data, fmt, functools.partial(parse.line_record, fmt, rejects), rejects.add
        )
        return lines

    def select(self, data, group_key, rejects, is_json=None):
        """Add whole lines as `add_text` does, and return the byte ranges (start, end) within `data` of the
        lines that joined the group `group_key` (a stored aggregate's UUID): its lines, told apart by the
        grouping that built it. Offsets are into `data` as given (classic or Monitor JSON lines)."""
        data, fmt = _format(data, is_json)
        if fmt == parse.CLEAN_CSV:
            raise ValueError("lines are selected from log blobs (classic or Azure Monitor JSON), not CSV")
        return self._engine.select(
            data, fmt, functools.partial(parse.line_record, fmt, rejects), rejects.add, group_key.bytes
        )

    def know(self, digests):
        """Request digests (8 bytes each, as `take_fresh` gives them) of lines counted before: from now on a
        line whose digest is known, from before or from this aggregator, is a repeat."""
        self._engine.know(digests)

    def intersects(self, digests):
        """How many of these digests belong to lines accepted since the last `take_fresh`."""
        return self._engine.intersects(digests)

    def take_fresh(self):
        """Digests of the lines accepted since the last call, to be remembered."""
        return self._engine.take_fresh()

    @property
    def figures(self):
        """accepted, duplicates, rejected, duplicate/raw request and response bytes, latest_us, groups."""
        return self._engine.figures()

    @property
    def accepted(self):
        return self.figures["accepted"]

    @property
    def duplicates(self):
        return self.figures["duplicates"]

    def keys(self):
        """The open groups' window starts and keys, as lines of "YYYY-MM-DD HH:MM:SS\\t<32 hex digits>"
        (bytes), for reading their stored rows."""
        return self._engine.keys()

    def windows(self):
        """The open groups' distinct window starts (bytes, "YYYY-MM-DD HH:MM:SS"), sorted."""
        return self._engine.windows().splitlines()

    def absorb(self, stored_rows):
        """Merge stored rows (STORED_COLUMNS) into the open groups of their keys (call `keys` first)."""
        return self._engine.absorb(stored_rows)

    def emit(self, mode="rows", account_id=0, cutoff=None, batch=0, limit=0):
        """(new rows, merged rows, totals): the groups whose window ends before `cutoff` (all by default) as
        PostgreSQL COPY text ("copy"), tuples in ROW_COLUMNS order ("rows") or nothing ("stats"); merged
        rows are those of groups a stored row was absorbed into. `batch` (a LogBatch id) is added to each
        row's batches: where its lines can be read again. With `limit`, at most that many rows leave at a
        time (the others stay open for the next call)."""
        return self._engine.emit(mode, account_id, cutoff, batch, limit)

    def close(self):
        """Every open aggregate as a dict (ROW_COLUMNS); the aggregator is empty afterwards."""
        new, merged, _ = self.emit("rows")
        return [as_dict(row) for row in new + merged]

    def close_before(self, moment_us, mode="rows"):
        """Aggregates whose window ended more than LATENESS before `moment_us` (microseconds since 1970):
        late lines are still merged into windows closer than that."""
        cutoff = moment_us // 60_000_000 - int(LATENESS.total_seconds()) // 60
        return self.emit(mode, cutoff=cutoff)


# What `absorb` takes: the stored row of a group, in this order.
STORED_COLUMNS = (
    "group_key", "count", "first_time", "last_time",
    "request_bytes", "request_bytes_min", "request_bytes_max", "response_bytes", "response_bytes_min",
    "response_bytes_max", "latency_ms_sum", "latency_ms_min", "latency_ms_max", "server_ms_sum",
    "server_ms_min", "server_ms_max", "status_counts", "sample_objects", "sample_request_ids",
    "object_digests", "export_size", "billed_size", "batches",
)  # fmt: skip


def _format(data, is_json):
    """(lines, parse format): the format read from the first line unless `is_json` says; a CSV-clean
    header line is left out."""
    head = bytes(data[:64])
    if is_json or (is_json is None and head.lstrip()[:1] == b"{"):
        return data, parse.MONITOR_JSON
    if head.startswith(CLEAN_HEADER):
        return data[bytes(data[:4096]).find(b"\n") + 1 :], parse.CLEAN_CSV
    return data, parse.CLEAN_CSV if head.startswith(b"csv,") else parse.CLASSIC


def _kind_index(operation):
    return KINDS.index(kind_of(operation))


def as_dict(row):
    """A row as the engine hands it over, with its JSON columns read and its times as UTC datetimes."""
    record = dict(zip(ROW_COLUMNS, row, strict=True))
    for name in ("status_counts", "sample_objects", "sample_request_ids", "batches"):
        record[name] = json.loads(record[name])
    for name in ("window_start", "window_end", "first_time", "last_time"):
        record[name] = datetime.fromisoformat(record[name]).replace(tzinfo=UTC)
    return record


# ---- the export format: what a log store would ingest for one aggregate --------------------------------

DERIVED = ("kind", "window_end", "status_class", "auth_type")  # from operation, status_counts, principal
INTERNAL = ("account_id", "object_digests", "group_key", "export_size", "billed_size", "batches")
_MEASURES = ("request_bytes", "response_bytes", "latency_ms", "server_ms")
SINGLE = ("last_time", "distinct_objects", *(f"{name}_{end}" for name in _MEASURES for end in ("min", "max")))


def _iso(moment, fraction):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S" + (".%fZ" if fraction else "Z"))


def export(record):
    """The aggregate as a log store would ingest it: empty and derivable fields left out (for a single
    operation its extremes, equal to its sums; for one object the sample objects), times in UTC."""
    dropped = (
        DERIVED
        + INTERNAL
        + (SINGLE if record["count"] == 1 else ())
        + (("sample_objects",) if record["object_key"] else ())
    )
    out = {k: v for k, v in record.items() if v not in ("", None, [], {}) and k not in dropped}
    out["window_start"] = _iso(record["window_start"], fraction=False)
    for name in ("first_time", "last_time"):
        if name in out:
            out[name] = _iso(out[name], fraction=True)
    return out


def serialized_size(record):
    """Bytes of the exported aggregate as one JSON line (the engine computes the same as `export_size`)."""
    return len(json.dumps(export(record), separators=(",", ":"), ensure_ascii=False).encode()) + 1


def billed_size(record):
    """What Log Analytics would bill for the exported aggregate as a row of a custom table: each column's
    value as text (docs/log-pricing.md, billing rules); JSON columns as their JSON text. The engine computes
    the same as `billed_size`."""
    return sum(len(_as_text(value).encode()) for value in export(record).values())


def _as_text(value):
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)
