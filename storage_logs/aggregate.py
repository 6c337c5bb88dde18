"""Lossless aggregation of log records: operations that are "the same" under a policy become one record.

A policy per operation kind (read, write, delete, other) names the fields that make two operations the
same and the width of the time window. An aggregate keeps the count, first and last time, sums and
min/max of bytes and latencies, status code counts, distinct objects with a few samples, and sample
request ids. Lines Azure wrote twice (same request id and operation count in the same group) count once.
Records are grouped with one dict lookup per line; the sums are taken per group with C-level builtins.
No Django imports.
"""

import functools
import heapq
import html
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter

from storage_logs.parse import (
    APPID,
    AUTH,
    CONTAINER,
    DATE,
    E2E,
    HCLASS,
    HH,
    HTTP,
    IP,
    MM,
    OBJECT,
    OID,
    OP,
    OPC,
    REQ,
    REQUESTER,
    RESP,
    RID,
    SIG,
    SRV,
    TIME,
    UA,
    UPN,
    principal_of,
)  # fmt: skip

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
_getters = {index: itemgetter(index) for index in (RID, OPC, REQ, RESP, E2E, SRV, TIME, HTTP)}


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


class _Route(dict):
    """operation name → (key getter, groups of this chunk, policy), filled on first sight of an operation."""

    def __init__(self, engine):
        super().__init__()
        self.engine = engine

    def __missing__(self, operation):
        policy = self.engine.policies[kind_of(operation)]
        indices = self.engine.indices[policy.kind]
        self[operation] = (itemgetter(*indices), self.engine.pending[policy.kind], policy)
        return self[operation]


class _State:
    __slots__ = (
        "policy", "key", "start", "count", "first", "last", "seen", "statuses", "objects", "sample_objects",
        "sample_ids", "sums", "mins", "maxs",
    )  # fmt: skip

    def __init__(self, policy, key, start):
        self.policy, self.key, self.start = policy, key, start
        self.count, self.first, self.last = 0, "~", ""
        self.seen, self.statuses, self.objects = set(), Counter(), set()
        self.sample_objects, self.sample_ids = [], []
        self.sums, self.mins, self.maxs = [0, 0, 0, 0], [None] * 4, [None] * 4


class Aggregator:
    """Feed it record lists with `add`; take finished aggregates with `close` (all) or `close_before`."""

    def __init__(self, policies=None):
        self.policies = {**DEFAULT_POLICIES, **(policies or {})}
        self.indices = {kind: policy.key_indices for kind, policy in self.policies.items()}
        self.pending = {kind: {} for kind in self.policies}
        self.route = _Route(self)
        self.states = {}
        self.accepted = 0
        self.duplicates = 0
        self.duplicate_bytes = [0, 0]  # request, response bytes of the lines dropped as repeats

    def add(self, records):
        route = self.route
        for record in records:
            getter, groups, _ = route[record[OP]]
            key = getter(record)
            group = groups.get(key)
            if group is None:
                groups[key] = [record]
            else:
                group.append(record)
        for kind, groups in self.pending.items():
            policy = self.policies[kind]
            for key, group in groups.items():
                self._fold_windows(policy, key, group)
            groups.clear()

    def _fold_windows(self, policy, key, group):
        width = policy.window_minutes
        if width >= 60:
            self._fold(policy, key, group)
            return
        parts = {}
        for record in group:
            parts.setdefault(int(record[MM]) // width, []).append(record)
        for slot, part in parts.items():
            self._fold(policy, key + (slot * width,), part)

    def _fold(self, policy, key, group):
        state = self.states.get((policy.kind, key))
        if state is None:
            state = self.states[(policy.kind, key)] = _State(policy, key, window_start(policy, key))
        unique = dict(
            zip(zip(map(_getters[RID], group), map(_getters[OPC], group), strict=True), group, strict=True)
        )
        fresh = unique.keys() - state.seen
        if len(fresh) != len(group):
            self.duplicates += len(group) - len(fresh)
            kept = [unique[ident] for ident in fresh]
            for index, slot in ((REQ, 0), (RESP, 1)):
                self.duplicate_bytes[slot] += sum(map(int, map(_getters[index], group))) - sum(
                    map(int, map(_getters[index], kept))
                )
            group = kept
            if not group:
                return
        state.seen.update(fresh)
        self.accepted += len(group)
        state.count += len(group)
        times = list(map(_getters[TIME], group))
        state.first, state.last = min(state.first, *times), max(state.last, *times)
        for slot, index in enumerate((REQ, RESP, E2E, SRV)):
            values = list(map(int, map(_getters[index], group)))
            state.sums[slot] += sum(values)
            low, high = min(values), max(values)
            state.mins[slot] = low if state.mins[slot] is None else min(state.mins[slot], low)
            state.maxs[slot] = high if state.maxs[slot] is None else max(state.maxs[slot], high)
        state.statuses.update(map(_getters[HTTP], group))
        objects = set(zip(map(itemgetter(CONTAINER), group), map(itemgetter(OBJECT), group), strict=True))
        state.objects |= objects
        if len(state.sample_objects) < SAMPLES:
            needed = SAMPLES - len(state.sample_objects)
            state.sample_objects += heapq.nsmallest(needed, objects.difference(state.sample_objects))
        if len(state.sample_ids) < SAMPLE_IDS:
            state.sample_ids += [record[RID] for record in group[: SAMPLE_IDS - len(state.sample_ids)]]

    def close(self):
        """Every aggregate still open, as dicts; the aggregator is empty afterwards."""
        out = [as_record(state) for state in self.states.values()]
        self.states.clear()
        return out

    def close_before(self, moment):
        """Aggregates whose window ended more than LATENESS before `moment` (ISO text): late lines are
        still merged into windows closer than that."""
        cutoff = (parse_time(moment) - LATENESS).isoformat()
        done = [k for k, state in self.states.items() if window_end(state).isoformat() < cutoff]
        return [as_record(self.states.pop(k)) for k in done]


def parse_time(text):
    return datetime.fromisoformat(text[:19])


def window_start(policy, key):
    if policy.window_minutes >= 1440:
        return datetime.fromisoformat(key[0])
    start = datetime.fromisoformat(f"{key[0]}T{key[1]}:00")
    return start + timedelta(minutes=key[-1]) if policy.window_minutes < 60 else start


def window_end(state):
    return state.start + timedelta(minutes=min(state.policy.window_minutes, 1440))


def _value(state, index, default=""):
    indices = state.policy.key_indices
    return state.key[indices.index(index)] if index in indices else default


def as_record(state):
    """A finished aggregate as a plain dict (text decoded, ready for the database or JSON)."""
    policy = state.policy
    sample = {AUTH: _value(state, AUTH), REQUESTER: _value(state, REQUESTER), SIG: _value(state, SIG)}
    sample[OID] = _value(state, OID)
    fake = [""] * 25
    for index, value in sample.items():
        fake[index] = value
    kind, ident = principal_of(fake) if "principal" in policy.fields else ("", "")
    statuses = dict(sorted(state.statuses.items()))
    return {
        "kind": policy.kind,
        "window_start": state.start.isoformat(),
        "window_end": window_end(state).isoformat(),
        "operation": _value(state, OP),
        "status_class": _value(state, HCLASS),
        "auth_type": _value(state, AUTH),
        "principal_kind": kind,
        "principal_id": html.unescape(ident),
        "upn": html.unescape(_value(state, UPN)),
        "app_id": html.unescape(_value(state, APPID)),
        "client_ip": _value(state, IP),
        "user_agent": html.unescape(_value(state, UA)),
        "container": html.unescape(_value(state, CONTAINER)),
        "object_key": html.unescape(_value(state, OBJECT)) if "object" in policy.fields else "",
        "count": state.count,
        "first_time": state.first,
        "last_time": state.last,
        "request_bytes": state.sums[0],
        "request_bytes_min": state.mins[0],
        "request_bytes_max": state.maxs[0],
        "response_bytes": state.sums[1],
        "response_bytes_min": state.mins[1],
        "response_bytes_max": state.maxs[1],
        "latency_ms_sum": state.sums[2],
        "latency_ms_min": state.mins[2],
        "latency_ms_max": state.maxs[2],
        "server_ms_sum": state.sums[3],
        "server_ms_min": state.mins[3],
        "server_ms_max": state.maxs[3],
        "status_counts": statuses,
        "distinct_objects": len(state.objects),
        "sample_objects": ["/".join(map(html.unescape, pair)) for pair in state.sample_objects],
        "sample_request_ids": state.sample_ids,
    }


DERIVED = (
    "kind",
    "window_end",
    "status_class",
    "auth_type",
)  # from operation, kind, status_counts, principal
_MEASURES = ("request_bytes", "response_bytes", "latency_ms", "server_ms")
SINGLE = ("last_time", "distinct_objects", *(f"{name}_{end}" for name in _MEASURES for end in ("min", "max")))


def export(record):
    """The aggregate as a log store would ingest it: empty and derivable fields left out (for a single
    operation its extremes, equal to its sums; for one object the sample objects)."""
    dropped = (
        DERIVED
        + (SINGLE if record["count"] == 1 else ())
        + (("sample_objects",) if record["object_key"] else ())
    )
    return {k: v for k, v in record.items() if v not in ("", None, [], {}) and k not in dropped}


def serialized_size(record):
    """Bytes of the exported aggregate as one JSON line."""
    return len(json.dumps(export(record), separators=(",", ":"), ensure_ascii=False).encode()) + 1
