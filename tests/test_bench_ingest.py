"""bench/ingest_e2e.py cannot rot: its small run completes and prints every figure it promises."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    "bare read", "DuckDB read_csv+GROUP BY", "reduce_logs on the log lines", "reduce_logs on the CSV twin",
    "ingest into sqlite", "merge + commit", "rerun",
)  # fmt: skip


@pytest.mark.peers
def test_the_end_to_end_ingest_bench_runs_small_and_prints_its_figures(tmp_path):
    bench = subprocess.run(
        [sys.executable, "bench/ingest_e2e.py", "--smoke", "--dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bench.returncode == 0, bench.stderr[-3000:]
    for workload in ("busy-lake", "default-tenant"):
        section = bench.stdout.split(f"== {workload}")[1].split("==")[0]
        for figure in FIGURES:
            assert figure in section, (workload, figure, bench.stdout)
        assert "reconciled True" in section
    # the busy lake's hour read step by step, as sweeps find it growing, stores what reading it once does
    busy = bench.stdout.split("== busy-lake")[1].split("==")[0]
    assert "same lines, rows and bytes as the whole hour at once: yes" in busy
