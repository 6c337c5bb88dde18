"""Bench of the storage log engine (parse + aggregate) against DuckDB read_csv + GROUP BY.

    .venv/bin/python bench/reduce_logs.py [--lines 5000000] [--dir /tmp/ascmon-bench] [--workers 2]
                                          [--rounds 3] [--tenant-days 14]
    .venv/bin/python bench/reduce_logs.py --smoke   # 10,000 lines in a fresh folder (the test suite's)

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
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ascmon.simulator.storage_activity import AccountLogSpec, classic_log_blobs, write_log_files  # noqa: E402
from storage_logs.reduce import reduce_paths  # noqa: E402

FULL = {"lines": 5_000_000, "workers": 2, "rounds": 3, "tenant_days": 14, "tenant_profile": "default"}
SMOKE = {"lines": 10_000, "workers": 2, "rounds": 1, "tenant_days": 1, "tenant_profile": "small"}
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


def prepare(folder, lines, out):
    """folder/real/*.log and folder/clean/*.csv with `lines` lines each (cached between runs)."""
    manifest = folder / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("lines") == lines:
        return
    started = time.perf_counter()
    base, base_lines = folder / "base", min(lines, BASE_LINES)
    if not (base / "manifest").exists() or (base / "manifest").read_text() != str(base_lines):
        for old in base.glob("*/*"):
            old.unlink()
        write_log_files(base, base_lines)
        (base / "manifest").write_text(str(base_lines))
    copies = -(-lines // BASE_LINES)
    for variant, suffix in (("real", "log"), ("clean", "csv")):
        target = folder / variant
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*"):
            old.unlink()
        sources = sorted((base / variant).glob(f"*.{suffix}"))
        for copy in range(copies):
            for source in sources:
                data = source.read_bytes()
                if copy:  # the same month-day-hours, another month: other windows, same shape
                    data = data.replace(b",2026-01-", f",2026-{copy + 1:02d}-".encode())
                    data = data.replace(b";2026-01-", f";2026-{copy + 1:02d}-".encode())
                (target / f"{copy:02d}-{source.name}").write_bytes(data)
    manifest.write_text(json.dumps({"lines": lines}))
    out.write(f"generated data in {time.perf_counter() - started:.0f} s\n")


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


def default_workload(folder, days, profile):
    """The simulator's default tenant: one account, `days` days of `profile`, written as $logs blobs."""
    target = folder / f"tenant-{profile}-{days}"
    if not (target / "done").exists():
        target.mkdir(parents=True, exist_ok=True)
        spec = AccountLogSpec(
            "contosodata", "00000000-0000-0000-0000-00000000d0d0", "rg-data", profile=profile
        )
        end = datetime(2026, 3, 15, tzinfo=UTC)
        for blob in classic_log_blobs(spec, end - timedelta(days=days), end, seed=1):
            (target / blob.name.replace("/", "_")).write_bytes(blob.data)
        (target / "done").write_text("ok")
    return reduce_paths([target])


def rate(result):
    return result["lines"] / result["seconds"]


def run(lines, folder, workers, rounds, tenant_days, tenant_profile, out=sys.stdout):
    """Every figure the module docstring lists, written to `out` as it is measured."""
    folder = Path(folder)
    prepare(folder, lines, out)
    sizes = {v: sum(p.stat().st_size for p in (folder / v).glob("*")) / 1e9 for v in ("real", "clean")}
    out.write(f"data: {lines:,} lines; real {sizes['real']:.2f} GB, clean {sizes['clean']:.2f} GB\n")
    out.flush()
    best = {}
    for _ in range(rounds):
        for name, timed in (
            ("duck", lambda: duckdb_run(folder, workers)),
            ("clean", lambda: reduce_paths([folder / "clean"], workers=workers)),
            ("real", lambda: reduce_paths([folder / "real"], workers=workers)),
        ):
            result = timed()
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
    duck, clean, real = best["duck"], best["clean"], best["real"]
    out.write(
        f"duckdb clean: {rate(duck):>10,.0f} lines/s ({duck['seconds']:.1f} s, {duck['records']:,} groups)\n"
    )
    out.write(f"ours   clean: {figures(clean)} = {rate(clean) / rate(duck):.2f}x duckdb\n")
    out.write(
        f"ours   real:  {figures(real)} = {rate(real) / rate(clean):.2f}x our clean, "
        f"rejected {real['rejected']}\n"
    )
    out.flush()
    for gigabytes in (0.25, 1.0):
        files, total = files_totalling(folder, gigabytes)
        rss, result = peak_rss(files)
        out.write(
            f"peak RSS, {total / 1e9:.2f} GB of real logs, one process: {rss:.0f} MB "
            f"({rate(result):,.0f} lines/s)\n"
        )
        out.flush()
    w = default_workload(folder, tenant_days, tenant_profile)
    out.write(
        f"{tenant_profile} tenant, {tenant_days} days: "
        f"{w['lines']:,} lines, {w['raw_bytes'] / 1e6:.1f} MB -> "
        f"{w['records']:,} records, {w['aggregate_bytes'] / 1e6:.2f} MB: "
        f"reduction {w['reduction_pct']} % (reconciled={w['reconciled']})\n"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="a small run in a fresh folder: " + str(SMOKE))
    parser.add_argument("--lines", type=int)
    parser.add_argument("--dir", help="where the generated data is kept (default /tmp/ascmon-bench)")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--tenant-days", type=int)
    args = parser.parse_args()
    sizes = dict(SMOKE if args.smoke else FULL)
    sizes.update({name: getattr(args, name) for name in sizes if getattr(args, name, None)})
    if args.smoke and not args.dir:
        with tempfile.TemporaryDirectory(prefix="ascmon-bench-") as folder:
            return run(folder=folder, **sizes)
    run(folder=args.dir or os.environ.get("ASCMON_BENCH_DIR", "/tmp/ascmon-bench"), **sizes)


def figures(result):
    return (
        f"{rate(result):>10,.0f} lines/s ({result['seconds']:.1f} s, {result['records']:,} records, "
        f"reconciled={result['reconciled']})"
    )


if __name__ == "__main__":
    main()
