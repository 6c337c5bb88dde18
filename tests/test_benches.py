"""The benchmarks still run: each one's smoke mode completes on the test database and prints its figures.

No figure is judged here (timings belong to the benches); a change that breaks a bench fails this module.
"""

import io

import pytest

from bench import alert_context, alert_ingest, evidence, fleet_pages, reduce_logs


@pytest.mark.django_db
def test_the_alert_context_bench_stores_its_days_and_prints_the_page_figures():
    out = io.StringIO()
    alert_context.run(**alert_context.SMOKE, out=out)
    printed = out.getvalue()
    assert "raw log lines stored: " in printed and " over 2 days" in printed
    assert "aggregates stored: " in printed
    assert "alert page: p50 " in printed and "queries per page: " in printed


@pytest.mark.django_db
def test_the_alert_ingest_bench_polls_its_simulator_and_prints_the_list_figures():
    out = io.StringIO()
    alert_ingest.run(**alert_ingest.SMOKE, out=out)
    printed = out.getvalue()
    assert f"simulator: {alert_ingest.SMOKE['alerts']} alerts" in printed
    assert "poll, empty database (page + ingest):" in printed and "poll again, nothing changed:" in printed
    assert f"synthetic ingest (no network): {alert_ingest.SMOKE['list_alerts']} alerts" in printed
    assert "  all                p50 " in printed


def test_the_reduce_logs_bench_compares_with_duckdb_and_prints_its_figures(tmp_path):
    out = io.StringIO()
    reduce_logs.run(**reduce_logs.SMOKE, folder=tmp_path, out=out)
    printed = out.getvalue()
    assert f"data: {reduce_logs.SMOKE['lines']:,} lines" in printed
    assert "duckdb clean: " in printed
    assert "ours   clean: " in printed and "ours   real: " in printed
    assert printed.count("peak RSS, ") == 2


@pytest.mark.peers
@pytest.mark.django_db
def test_the_evidence_bench_times_a_first_page_and_prints_the_pointer_cost():
    out = io.StringIO()
    evidence.run(**evidence.SMOKE, out=out)
    printed = out.getvalue()
    assert "hour ingested: " in printed and "its biggest aggregate: " in printed
    assert "first page (100 lines): p50 " in printed and "adds up: True" in printed
    assert "pointer cost: " in printed and "% with pointers" in printed


@pytest.mark.django_db
def test_the_fleet_pages_bench_fills_a_fleet_and_prints_each_page_with_its_queries():
    out = io.StringIO()
    fleet_pages.run(**fleet_pages.SMOKE, out=out)
    printed = out.getvalue()
    assert f"filled {fleet_pages.SMOKE['devices']} devices" in printed
    for label in ("fleet page", "device page", "alerts searched by IP", "suppression rule list"):
        assert f"  {label} " in printed, label
    assert printed.count(" queries ") == 9
