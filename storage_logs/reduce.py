"""Offline parse + aggregate of log files (the engine of `manage.py reduce_logs` and the bench). No Django.

Files are spread over worker processes; each streams its file in whole-line chunks, so memory stays flat
however large the input, and closes windows once the input has moved LATENESS past them.
"""

import os
import time
from multiprocessing import get_context
from pathlib import Path

from storage_logs import parse
from storage_logs.aggregate import Aggregator

CHUNK_BYTES = 4 * 1024 * 1024  # as fast as 16 MB here, with a quarter of the peak memory
SUFFIXES = (".log", ".json", ".txt", ".csv")
# Windows are closed each time the logs' own clock moved this far: closing after every chunk walked every
# open group once per chunk (about 4 MB), which on a busy account cost more than the parsing.
CLOSE_EVERY_US = 15 * 60 * 1_000_000


def log_files(paths):
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            out.append(path)
    return [str(p) for p in out]


def _whole_lines(path):
    """Views of whole lines, about CHUNK_BYTES at a time, read into one reused buffer (fresh buffers cost
    more in page faults than the parsing). Each view is valid until the next one is asked for."""
    with open(path, "rb", buffering=0) as handle:
        # no bigger than the file: a fresh 4 MB buffer per small file (a tenant's hour has thousands of
        # them) cost more than parsing its lines
        buffer, filled = bytearray(max(1, min(CHUNK_BYTES, os.fstat(handle.fileno()).st_size + 1))), 0
        while True:
            if filled == len(buffer):  # one line longer than the buffer: a larger one
                buffer = buffer + bytearray(len(buffer))
            with memoryview(buffer) as view:
                read = handle.readinto(view[filled:])
                if not read:
                    break
                end = filled + read
                cut = buffer.rfind(b"\n", 0, end) + 1
                if cut:
                    with view[:cut] as lines:
                        yield lines
            buffer[: end - cut] = buffer[cut:end]
            filled = end - cut
    if filled:
        yield bytes(buffer[:filled]) + b"\n"


def reduce_file(path, policies=None):
    """Figures for one file: lines, rejected, repeats, records and the sums that must reconcile. The same
    engine path as ingestion, minus the database: aggregates leave the engine as figures only."""
    engine, rejects = Aggregator(policies), parse.Rejects()
    out = dict.fromkeys(("lines", "raw_bytes", "records", "aggregate_bytes", "agg_count", "agg_request",
                         "agg_response"), 0)  # fmt: skip
    closed_at = 0
    for data in _whole_lines(path):
        out["raw_bytes"] += len(data)
        out["lines"] += engine.add_text(data, rejects)
        latest = engine.figures["latest_us"]
        if latest - closed_at >= CLOSE_EVERY_US:
            _account(out, engine.close_before(latest, mode="stats")[2])
            closed_at = latest
    _account(out, engine.emit("stats")[2])
    figures = engine.figures
    out.update(duplicates=figures["duplicates"], accepted=figures["accepted"])
    out["rejected"] = rejects.count
    out["dup_request"], out["dup_response"] = figures["duplicate_request"], figures["duplicate_response"]
    out["raw_request"], out["raw_response"] = figures["raw_request"], figures["raw_response"]
    return out


def _account(out, totals):
    out["records"] += totals["records"]
    out["aggregate_bytes"] += totals["aggregate_bytes"]
    out["agg_count"] += totals["count"]
    out["agg_request"] += totals["request_bytes"]
    out["agg_response"] += totals["response_bytes"]


def _reduce_one(args):
    return reduce_file(*args)


def reduce_paths(paths, policies=None, workers=None):
    """One summary for all files: the JSON object `reduce_logs` prints."""
    started = time.perf_counter()
    files = log_files(paths)
    workers = max(1, min(workers or os.cpu_count() or 1, len(files) or 1))
    if workers == 1:
        parts = [reduce_file(path, policies) for path in files]
    else:
        with get_context("fork").Pool(workers) as pool:
            parts = pool.map(_reduce_one, [(path, policies) for path in files], chunksize=1)
    total = {key: sum(part[key] for part in parts) for key in parts[0]} if parts else {}
    return summary(total, time.perf_counter() - started)


def summary(t, seconds):
    if not t:
        return {"lines": 0, "rejected": 0, "records": 0, "raw_bytes": 0, "aggregate_bytes": 0,
                "reduction_pct": 0.0, "reconciled": True, "seconds": round(seconds, 3)}  # fmt: skip
    reconciled = (
        t["agg_count"] == t["accepted"] == t["lines"] - t["rejected"] - t["duplicates"]
        and t["agg_request"] + t["dup_request"] == t["raw_request"]
        and t["agg_response"] + t["dup_response"] == t["raw_response"]
    )
    return {
        "lines": t["lines"],
        "rejected": t["rejected"],
        "duplicates": t["duplicates"],
        "records": t["records"],
        "raw_bytes": t["raw_bytes"],
        "aggregate_bytes": t["aggregate_bytes"],
        "reduction_pct": round(100 * (1 - t["aggregate_bytes"] / t["raw_bytes"]), 2)
        if t["raw_bytes"]
        else 0.0,
        "reconciled": reconciled,
        "seconds": round(seconds, 3),
    }
