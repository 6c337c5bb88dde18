"""Lossless aggregation of log records: operations that are "the same" under a policy become one record.

A policy per operation kind (read, write, delete, other) names the fields that make two operations the
same and the width of the time window. An aggregate keeps the count, first and last time, sums and
min/max of bytes and latencies, status code counts, distinct objects with the three smallest as samples,
and the first two request ids. Lines Azure wrote twice (same request id and operation count in the same
kind and window) count once. The per-line work runs in C (storage_logs/_engine.c, built by scripts/setup);
policies, SAS principals and the finished records are Python. No Django imports.
"""

import functools
import html
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage_logs import parse
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
    principal_of,
)  # fmt: skip

try:
    from storage_logs import _engine
except ImportError as error:  # pragma: no cover - a checkout that skipped scripts/setup
    raise ImportError("storage_logs/_engine.c is not built: run scripts/setup") from error

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
LATENESS = timedelta(hours=2)
READ_PREFIXES = ("Get", "List", "Query", "Peek", "Head")
CLEAN_HEADER = parse.CLEAN_HEADER.encode()
EPOCH = datetime(1970, 1, 1)


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


_SAME = ("operation", "status_class", "principal", "client_ip", "user_agent")
# Writes and deletes keep the object; a day's window lets rewrites of one object fold together.
DEFAULT_POLICIES = {
    "read": Policy("read", (*_SAME, "container"), 60),
    "write": Policy("write", (*_SAME, "object"), 1440),
    "delete": Policy("delete", (*_SAME, "object"), 1440),
    "other": Policy("other", (*_SAME, "container"), 60),
}


class Aggregator:
    """Feed it record lists with `add` or bytes of whole lines with `add_text`; take finished aggregates
    with `close` (all) or `close_before`. The work is done by the C engine (storage_logs/_engine.c): a
    line it cannot parse itself goes to the Python parser, so both paths aggregate the same records."""

    def __init__(self, policies=None):
        self.policies = {**DEFAULT_POLICIES, **(policies or {})}
        self._by_index = [self.policies[kind] for kind in KINDS]
        self._engine = _engine.Engine(
            [(policy.key_indices, policy.window_minutes) for policy in self._by_index], _kind_index, _settle
        )

    def add(self, records):
        """Records are parse's tuples (SIG already the SAS principal)."""
        self._engine.add_records(records)

    def add_text(self, data, rejects, is_json=None):
        """Whole lines of one format (classic, Azure Monitor JSON or the CSV-clean variant), as bytes or a
        memoryview; returns the number of lines (a CSV header line is not one). The format is read from
        the first line unless `is_json` says."""
        head = bytes(data[:64])
        if is_json or (is_json is None and head.lstrip()[:1] == b"{"):
            fmt = parse.MONITOR_JSON
        elif head.startswith(CLEAN_HEADER):
            data = data[bytes(data[:4096]).find(b"\n") + 1 :]
            fmt = parse.CLEAN_CSV
        else:
            fmt = parse.CLEAN_CSV if head.startswith(b"csv,") else parse.CLASSIC
        lines, _ = self._engine.feed(data, fmt, functools.partial(parse.line_record, fmt, rejects))
        return lines

    def know(self, digests):
        """Request digests (8 bytes each, as `fresh_digests` gives them) of lines counted before: from now
        on a line whose digest is known, from before or from this aggregator, is a repeat."""
        self._engine.know(digests)

    def fresh_digests(self):
        """Digests of the lines accepted since `know` was first called, to be remembered."""
        return self._engine.fresh_digests()

    @property
    def figures(self):
        """accepted, duplicates, duplicate_request/_response bytes, raw_request/_response bytes, latest."""
        return self._engine.figures()

    @property
    def accepted(self):
        return self.figures["accepted"]

    @property
    def duplicates(self):
        return self.figures["duplicates"]

    @property
    def duplicate_bytes(self):
        figures = self.figures
        return [figures["duplicate_request"], figures["duplicate_response"]]

    def close(self):
        """Every aggregate still open, as dicts; the aggregator is empty afterwards."""
        return [as_record(self._by_index[result[0]], result) for result in self._engine.close()]

    def close_before(self, moment):
        """Aggregates whose window ended more than LATENESS before `moment` (ISO text): late lines are
        still merged into windows closer than that."""
        cutoff = parse_time(moment) - LATENESS - EPOCH
        minutes = -(-int(cutoff.total_seconds()) // 60)  # a window ending before 10:00:30 ends before 10:01
        return [as_record(self._by_index[result[0]], result) for result in self._engine.close(minutes)]


def _kind_index(operation):
    return KINDS.index(kind_of(operation))


def _settle(query):
    return parse.sas_principal(parse.sig_of(query))


def parse_time(text):
    return datetime.fromisoformat(text[:19])


def window_start(policy, key):
    if policy.window_minutes >= 1440:
        return datetime.fromisoformat(key[0])
    start = datetime.fromisoformat(f"{key[0]}T{key[1]}:00")
    return start + timedelta(minutes=key[-1]) if policy.window_minutes < 60 else start


def window_end(policy, start):
    return start + timedelta(minutes=min(policy.window_minutes, 1440))


def as_record(policy, result):
    """A finished aggregate (an engine result) as a plain dict (text decoded, ready for the database or
    JSON)."""
    _, key, count, first, last, sums, mins, maxs, statuses, distinct, samples, ids, digests = result
    indices = policy.key_indices
    value = lambda index: key[indices.index(index)] if index in indices else ""  # noqa: E731
    fake = [""] * parse.WIDTH
    for index in (AUTH, REQUESTER, SIG, OID):
        fake[index] = value(index)
    kind, ident = principal_of(fake) if "principal" in policy.fields else ("", "")
    start = window_start(policy, key)
    return {
        "kind": policy.kind,
        "window_start": start.isoformat(),
        "window_end": window_end(policy, start).isoformat(),
        "operation": value(OP),
        "status_class": value(HCLASS),
        "auth_type": value(AUTH),
        "principal_kind": kind,
        "principal_id": html.unescape(ident),
        "upn": html.unescape(value(UPN)),
        "app_id": html.unescape(value(APPID)),
        "client_ip": value(IP),
        "user_agent": html.unescape(value(UA)),
        "container": html.unescape(value(CONTAINER)),
        "object_key": html.unescape(value(OBJECT)) if "object" in policy.fields else "",
        "count": count,
        "first_time": first,
        "last_time": last,
        "request_bytes": sums[0],
        "request_bytes_min": mins[0],
        "request_bytes_max": maxs[0],
        "response_bytes": sums[1],
        "response_bytes_min": mins[1],
        "response_bytes_max": maxs[1],
        "latency_ms_sum": sums[2],
        "latency_ms_min": mins[2],
        "latency_ms_max": maxs[2],
        "server_ms_sum": sums[3],
        "server_ms_min": mins[3],
        "server_ms_max": maxs[3],
        "status_counts": dict(sorted(statuses.items())),
        "distinct_objects": distinct,
        "sample_objects": ["/".join(map(html.unescape, pair)) for pair in samples],
        "sample_request_ids": ids,
        "object_digests": digests,
    }


DERIVED = (
    "kind",
    "window_end",
    "status_class",
    "auth_type",
)  # from operation, kind, status_counts, principal
INTERNAL = ("object_digests",)  # ascmon's own bookkeeping (exact distinct objects across merges)
_MEASURES = ("request_bytes", "response_bytes", "latency_ms", "server_ms")
SINGLE = ("last_time", "distinct_objects", *(f"{name}_{end}" for name in _MEASURES for end in ("min", "max")))


def export(record):
    """The aggregate as a log store would ingest it: empty and derivable fields left out (for a single
    operation its extremes, equal to its sums; for one object the sample objects)."""
    dropped = (
        DERIVED
        + INTERNAL
        + (SINGLE if record["count"] == 1 else ())
        + (("sample_objects",) if record["object_key"] else ())
    )
    return {k: v for k, v in record.items() if v not in ("", None, [], {}) and k not in dropped}


def serialized_size(record):
    """Bytes of the exported aggregate as one JSON line."""
    return len(json.dumps(export(record), separators=(",", ":"), ensure_ascii=False).encode()) + 1
