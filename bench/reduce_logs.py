"""Bench of the storage log engine (parse + aggregate) against DuckDB read_csv + GROUP BY. Never a test.

    .venv/bin/python bench/reduce_logs.py [--lines 5000000] [--dir /tmp/ascmon-bench] [--workers 2]
                                          [--rounds 3]

Prints: lines/s of ours and of DuckDB on the CSV-clean variant (same files, same grouping, same run),
ours on the real-format variant against our clean figure, peak RSS for 0.25 GB and 1 GB of real logs
(one process each), and the reduction on the simulator's default tenant (14 days) with default policies.
The three timed runs take turns for --rounds rounds and each figure is its best round, so a burst of
other work on the machine does not land on one of them only. The data is generated once (1 M lines, then
copies shifted by a month) and kept in --dir.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ascmon.simulator.storage_activity import AccountLogSpec, classic_log_blobs, write_log_files  # noqa: E402
from storage_logs.reduce import reduce_paths  # noqa: E402

BASE_LINES = 1_000_000
WRITE_OPS = "('PutBlob','PutBlock','PutBlockList','AppendBlock','SetBlobMetadata','CopyBlob')"
DUCKDB_QUERY = """
SELECT count(*) AS records, sum(n) AS lines FROM (
  SELECT
    CASE WHEN operation IN {writes} OR operation LIKE 'Delete%'
      THEN date_trunc('day', time) ELSE date_trunc('hour', time) END AS win,
    operation, http_status // 100 AS status_class, auth_type, requester, sas_principal, user_object_id,
    app_id, upn, ip, user_agent, container,
    CASE WHEN operation IN {writes} OR operation LIKE 'Delete%' THEN object ELSE '' END AS obj,
    count(*) AS n, min(time), max(time),
    sum(request_bytes), min(request_bytes), max(request_bytes),
    sum(response_bytes), min(response_bytes), max(response_bytes),
    sum(e2e_ms), min(e2e_ms), max(e2e_ms), sum(server_ms), min(server_ms), max(server_ms),
    count(DISTINCT object), min(request_id)
  FROM read_csv('{files}', header = true, quote = '"', delim = ',', all_varchar = false)
  GROUP BY ALL
)
"""


def prepare(folder, lines):
    """folder/real/*.log and folder/clean/*.csv with `lines` lines each (cached between runs)."""
    manifest = folder / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("lines") == lines:
        return
    started = time.perf_counter()
    base = folder / "base"
    if not (base / "manifest").exists():
        write_log_files(base, min(lines, BASE_LINES))
        (base / "manifest").write_text("ok")
    copies = -(-lines // BASE_LINES)
    for variant, suffix in (("real", "log"), ("clean", "csv")):
        out = folder / variant
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*"):
            old.unlink()
        sources = sorted((base / variant).glob(f"*.{suffix}"))
        for copy in range(copies):
            for source in sources:
                data = source.read_bytes()
                if copy:  # the same month-day-hours, another month: other windows, same shape
                    data = data.replace(b",2026-01-", f",2026-{copy + 1:02d}-".encode())
                    data = data.replace(b";2026-01-", f";2026-{copy + 1:02d}-".encode())
                (out / f"{copy:02d}-{source.name}").write_bytes(data)
    manifest.write_text(json.dumps({"lines": lines}))
    print(f"generated data in {time.perf_counter() - started:.0f} s", flush=True)


def duckdb_run(folder, threads):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    started = time.perf_counter()
    records, lines = con.execute(
        DUCKDB_QUERY.format(writes=WRITE_OPS, files=folder / "clean" / "*.csv")
    ).fetchone()
    return {"lines": lines, "records": records, "seconds": time.perf_counter() - started}


def peak_rss(files):
    """Peak RSS (MB) of one process reducing `files` with one worker. The child reads its own VmHWM:
    getrusage's ru_maxrss of a forked child also counts the parent's pages at fork (DuckDB's, here)."""
    code = (
        "import sys, json; from storage_logs.reduce import reduce_paths; "
        "result = reduce_paths(sys.argv[1:], workers=1); "
        "status = open('/proc/self/status').read(); "
        "kb = int(status.split('VmHWM:')[1].split()[0]); "
        "print(json.dumps([kb, result]))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code, *map(str, files)], cwd=ROOT, stdout=subprocess.PIPE, check=True
    ).stdout
    kb, result = json.loads(output)
    return kb / 1024, result


def files_totalling(folder, gigabytes):
    chosen, total = [], 0
    for path in sorted((folder / "real").glob("*.log")):
        if total >= gigabytes * 1e9:
            break
        chosen.append(path)
        total += path.stat().st_size
    return chosen, total


def default_workload(folder):
    """The simulator's default tenant: one account, 14 days, default profile, written as $logs blobs."""
    out = folder / "default"
    if not (out / "done").exists():
        out.mkdir(parents=True, exist_ok=True)
        spec = AccountLogSpec("contosodata", "00000000-0000-0000-0000-00000000d0d0", "rg-data")
        end = datetime(2026, 3, 15, tzinfo=UTC)
        for blob in classic_log_blobs(spec, end - timedelta(days=14), end, seed=1):
            (out / blob.name.replace("/", "_")).write_bytes(blob.data)
        (out / "done").write_text("ok")
    return reduce_paths([out])


def rate(result):
    return result["lines"] / result["seconds"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--dir", default=os.environ.get("ASCMON_BENCH_DIR", "/tmp/ascmon-bench"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(args.dir)
    prepare(folder, args.lines)
    sizes = {v: sum(p.stat().st_size for p in (folder / v).glob("*")) / 1e9 for v in ("real", "clean")}
    print(
        f"data: {args.lines:,} lines; real {sizes['real']:.2f} GB, clean {sizes['clean']:.2f} GB", flush=True
    )

    best = {}
    for _ in range(args.rounds):
        for name, run in (
            ("duck", lambda: duckdb_run(folder, args.workers)),
            ("clean", lambda: reduce_paths([folder / "clean"], workers=args.workers)),
            ("real", lambda: reduce_paths([folder / "real"], workers=args.workers)),
        ):
            result = run()
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
    duck, clean, real = best["duck"], best["clean"], best["real"]
    print(f"duckdb clean: {rate(duck):>10,.0f} lines/s ({duck['seconds']:.1f} s, {duck['records']:,} groups)")
    print(f"ours   clean: {figures(clean)} = {rate(clean) / rate(duck):.2f}x duckdb")
    print(
        f"ours   real:  {figures(real)} = {rate(real) / rate(clean):.2f}x our clean, "
        f"rejected {real['rejected']}"
    )
    for gigabytes in (0.25, 1.0):
        files, total = files_totalling(folder, gigabytes)
        rss, result = peak_rss(files)
        print(
            f"peak RSS, {total / 1e9:.2f} GB of real logs, one process: {rss:.0f} MB "
            f"({rate(result):,.0f} lines/s)"
        )
    w = default_workload(folder)
    print(
        f"default tenant, 14 days: {w['lines']:,} lines, {w['raw_bytes'] / 1e6:.1f} MB -> "
        f"{w['records']:,} records, {w['aggregate_bytes'] / 1e6:.2f} MB: "
        f"reduction {w['reduction_pct']} % (reconciled={w['reconciled']})"
    )


def figures(result):
    return (
        f"{rate(result):>10,.0f} lines/s ({result['seconds']:.1f} s, {result['records']:,} records, "
        f"reconciled={result['reconciled']})"
    )


if __name__ == "__main__":
    main()
