"""What is usual for a principal: numbers, summary line and charts (pure parts)."""

from datetime import UTC, datetime, timedelta

from storage_logs import charts
from storage_logs.baseline import baseline_of, hourly_series, human_bytes, percentile, summary_line

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_hourly_series_fills_quiet_hours_with_zero():
    rows = [
        (T0 + timedelta(hours=1, minutes=5), "GetBlob", 100, 2),
        (T0 + timedelta(hours=1), "ListBlobs", 0, 1),
    ]
    series = hourly_series(rows, T0, T0 + timedelta(hours=3))
    assert [point.bytes_read for point in series] == [0, 100, 0]
    assert series[1].operations == {"GetBlob": 2, "ListBlobs": 1}


def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10
    assert percentile([], 95) == 0


def test_baseline_uses_the_hours_the_principal_was_active():
    rows = [(T0 + timedelta(hours=h), "GetBlob", 38_000_000, 10) for h in range(0, 48, 2)]
    baseline = baseline_of(hourly_series(rows, T0, T0 + timedelta(hours=48)), days=2)
    assert baseline.active_hours == 24
    assert baseline.p95_bytes_per_hour == 38_000_000


def test_summary_line_reads_like_the_issue_example():
    rows = [(T0 + timedelta(hours=h), "GetBlob", 38_000_000, 10) for h in range(24)]
    baseline = baseline_of(hourly_series(rows, T0, T0 + timedelta(hours=24)), days=1)
    now = T0 + timedelta(days=1, hours=3)
    line = summary_line(4_200_000_000, timedelta(hours=1), baseline, [("IP", "203.0.113.7", now)], now=now)
    expected = (
        "read 4.2 GB in 1 h; the usual hourly 95th percentile is 38 MB (111×); "
        "IP 203.0.113.7 first seen today"
    )
    assert line == expected


def test_summary_line_says_when_there_is_no_history():
    baseline = baseline_of([], days=14)
    assert "no activity by this principal in the previous 14 days" in summary_line(
        5, timedelta(hours=1), baseline
    )


def test_human_bytes_uses_decimal_units_like_defender():
    assert human_bytes(140_000_000) == "140 MB"
    assert human_bytes(999) == "999 B"


def test_bytes_chart_highlights_the_alert_window_and_the_usual_level():
    series = hourly_series([(T0, "GetBlob", 5, 1)], T0, T0 + timedelta(hours=2))
    figure = charts.bytes_read_per_hour(series, T0, T0 + timedelta(hours=1), p95=5)
    assert figure["data"][0]["y"] == [5, 0]
    assert figure["layout"]["shapes"][0]["x0"] == T0.isoformat()
    assert figure["data"][1]["name"] == "usual hourly 95th percentile"


def test_operations_chart_stacks_one_trace_per_operation():
    rows = [(T0, "GetBlob", 5, 3), (T0, "PutBlob", 0, 1)]
    figure = charts.operations_per_hour(hourly_series(rows, T0, T0 + timedelta(hours=1)), T0, T0)
    assert [trace["name"] for trace in figure["data"]] == ["GetBlob", "PutBlob"]
    assert figure["layout"]["barmode"] == "stack"
