"""What is usual for a principal: numbers, summary line and charts, then the alert page that shows them."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from ascmon.simulator.storage_activity import classic_log_blobs, exfiltration_episode
from storage_logs import charts, parse, store
from storage_logs.aggregate import Aggregator
from storage_logs.baseline import (
    HOUR,
    baseline_of,
    compare,
    floor_hour,
    hourly_series,
    human_bytes,
    percentile,
    ratio_text,
    summary_line,
)
from storage_logs.models import AggregationPolicy
from tests import factories

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
    own = baseline_of(hourly_series(rows, T0, T0 + timedelta(hours=24)), days=1)
    now = T0 + timedelta(days=1, hours=3)
    comparison = compare(4_200_000_000, timedelta(hours=1), own, "this principal")
    line = summary_line(comparison, [("IP", "203.0.113.7", now)], now=now)
    expected = (
        "read 4.2 GB in 1 h; the usual hourly 95th percentile is 38 MB (111×); "
        "IP 203.0.113.7 first seen today"
    )
    assert line == expected


def test_summary_line_says_when_there_is_no_history():
    comparison = compare(5, timedelta(hours=1), baseline_of([], days=14), "this principal")
    assert "no activity by this principal in the previous 14 days" in summary_line(comparison)
    assert comparison.ratio is None


def test_a_principal_without_a_usual_level_is_compared_with_the_account_everywhere_alike():
    """The sentence, the numbers and the chart read one comparison: no "21×" beside "no history"."""
    quiet = hourly_series([(T0, "ListBlobs", 0, 3)], T0, T0 + timedelta(hours=24))
    own = baseline_of(quiet, days=1)  # active, but never read a byte
    busy = [(T0 + timedelta(hours=h), "GetBlob", 100_000_000, 1) for h in range(24)]
    account = baseline_of(hourly_series(busy, T0, T0 + timedelta(hours=24)), days=1)
    comparison = compare(2_100_000_000, timedelta(hours=1), own, "this principal", account)
    assert comparison.reference is account and comparison.ratio == 21
    line = summary_line(comparison)
    assert "this principal was active in 1 hours of the previous 1 days but read nothing" in line
    assert "the whole account usually moves 100 MB an hour at the 95th percentile (21×)" in line
    series = hourly_series([(T0, "GetBlob", 2_100_000_000, 1)], T0, T0 + timedelta(hours=2))
    figure = charts.bytes_per_hour(series, T0, T0 + timedelta(hours=1), comparison)
    assert figure["data"][1]["name"] == "usual hourly 95th percentile (the whole account)"
    assert figure["data"][1]["y"] == [0.1, 0.1]  # 100 MB in the chart's unit, GB


def test_human_bytes_uses_decimal_units_like_defender():
    assert human_bytes(140_000_000) == "140 MB"
    assert human_bytes(999) == "999 B"


def test_bytes_chart_is_drawn_in_a_human_unit_with_the_window_and_the_usual_level():
    series = hourly_series([(T0, "GetBlob", 4_200_000_000, 1)], T0, T0 + timedelta(hours=2))
    own = baseline_of(hourly_series([(T0, "GetBlob", 5_000_000, 1)], T0, T0 + timedelta(hours=1)), 1)
    figure = charts.bytes_per_hour(series, T0, T0 + timedelta(hours=1), compare(0, HOUR, own, "it"))
    assert figure["data"][0]["y"] == [4.2, 0]
    assert figure["layout"]["yaxis"]["title"]["text"] == "GB per hour"
    assert figure["layout"]["shapes"][0]["x0"] == T0.isoformat()
    assert figure["data"][1]["name"] == "usual hourly 95th percentile (it)"


def test_the_zoomed_chart_shows_the_alert_window_and_the_day_before_it():
    start = T0 + timedelta(days=10)
    series = hourly_series([], T0, start + timedelta(hours=2))
    own = baseline_of([], 10)
    figure = charts.around_window(series, start, start + timedelta(hours=2), compare(0, HOUR, own, "it"))
    assert figure["data"][0]["x"][0] == (start - timedelta(hours=24)).isoformat()
    assert len(figure["data"][0]["x"]) == 26


def test_operations_chart_stacks_one_trace_per_operation():
    rows = [(T0, "GetBlob", 5, 3), (T0, "PutBlob", 0, 1)]
    figure = charts.operations_per_hour(hourly_series(rows, T0, T0 + timedelta(hours=1)), T0, T0)
    assert [trace["name"] for trace in figure["data"]] == ["GetBlob", "PutBlob"]
    assert figure["layout"]["barmode"] == "stack"


# --- the alert page, from aggregates of the simulator's own log lines ------------------------------------

SUB = "00000000-0000-0000-0000-0000000d5001"
NOW = datetime(2026, 3, 16, 12, tzinfo=UTC)
SEED = 11


def ingest_generated_logs(account, spec, episode, days=15):
    """The simulator's log lines through the product's parser and aggregator; returns the raw records."""
    engine, rejects, raw = Aggregator(AggregationPolicy.current()), parse.Rejects(), []
    for blob in classic_log_blobs(spec, NOW - timedelta(days=days), NOW, SEED, episode):
        records = parse.records(blob.data.decode(), rejects)
        raw.extend(records)
        engine.add(records)
    store.save(account.id, engine)
    return raw


def make_device(name="Contoso", **logging):
    account, spec = factories.storage_account(
        "contosodata", device_name=name, subscription_id=SUB, resource_group="rg-data", **logging
    )
    return account.device, account, spec


@pytest.mark.django_db
def test_exfiltration_alert_page_shows_the_principal_baseline_and_ratio_matching_the_raw_lines(
    analyst_client,
):
    device, account, spec = make_device()
    episode = exfiltration_episode(account.name, NOW, SEED)
    raw = ingest_generated_logs(account, spec, episode)
    alert = factories.exfiltration_alert(account, episode)

    # Recompute from the raw lines: the thief is the SAS principal reading from the episode IP.
    seen, per_hour = set(), Counter()
    for r in raw:
        if (r[parse.RID], r[parse.OPC]) in seen:
            continue
        seen.add((r[parse.RID], r[parse.OPC]))
        if parse.principal_of(r) == ("sas_fields", episode.principal) and r[parse.OP].startswith(
            ("Get", "List")
        ):
            per_hour[f"{r[parse.DATE]}T{r[parse.HH]}"] += int(r[parse.RESP])
    start, end = floor_hour(episode.start), floor_hour(episode.end) + HOUR
    window_bytes = sum(v for h, v in per_hour.items() if start.isoformat()[:13] <= h < end.isoformat()[:13])
    history = [v for h, v in per_hour.items() if h < start.isoformat()[:13] and v]
    assert window_bytes >= episode.bytes

    html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert 'id="usual-context"' in html
    assert f"SAS token {episode.principal}" in html
    assert episode.ip in html
    assert f'{human_bytes(window_bytes)} read <span class="muted">({window_bytes:,} bytes)</span>' in html
    if history:
        assert f"{percentile(history, 95):,.0f} bytes" in html
        ratio = (window_bytes / ((end - start) / HOUR)) / percentile(history, 95)
        assert ratio_text(ratio) in html
    else:
        assert "no activity by this principal in the previous 14 days" in html
    numbers = html[html.index('id="usual-numbers"') : html.index("</dl>", html.index('id="usual-numbers"'))]
    summary = html[html.index('id="usual-summary"') : html.index("</p>", html.index('id="usual-summary"'))]
    ratio_shown = numbers[numbers.index('id="usual-ratio">') + len('id="usual-ratio">') :].split("<")[0]
    assert ratio_shown == "no history" or f"({ratio_shown})" in summary  # one number, both places
    assert f"IP {episode.ip} first seen today" in html
    assert "Alert window: " in html
    for figure in ("figure-bytes", "figure-window", "figure-operations"):
        assert f'data-figure="{figure}"' in html and f'id="{figure}"' in html
    assert '<script defer src="/static/vendor/plotly.min.js">' in html


@pytest.mark.django_db
def test_alert_for_an_account_with_logging_off_explains_and_links_the_finding(analyst_client):
    from devices.choices import FindingKind
    from devices.models import Finding

    device, account, spec = make_device(read=False, write=False, delete=False, logging_version=None)
    finding = Finding.objects.create(
        device=device,
        kind=FindingKind.READ_LOGGING_OFF,
        severity="medium",
        subject=account.name,
        title=f"Read logging is off on {account.name}",
        explanation="x",
        portal_steps="y",
        cli_command="az storage logging update",
    )
    episode = exfiltration_episode(account.name, NOW, SEED)
    alert = factories.exfiltration_alert(account, episode)
    response = analyst_client.get(reverse("alerts:detail", args=[alert.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Read logging is off on storage account contosodata" in html
    assert f"#finding-{finding.pk}" in html


def test_every_storage_anomaly_family_has_a_provider():
    from storage_logs.context import provider_for

    for alert_type in (
        "Storage.Blob_DataExfiltration.AmountOfDataAnomaly",
        "SIMULATED_Storage.Blob_DataExfiltration.NumberOfBlobsAnomaly",
        "Storage.Files_DeletionAnomaly",
        "Storage.Blob_GeoAnomaly",
        "Storage.Blob_ApplicationAnomaly",
        "Storage.Blob_AnonymousAccessAnomaly",
        "Storage.Blob_SomethingNew",
    ):
        assert provider_for(alert_type) is not None, alert_type
    assert provider_for("Storage.Files_DeletionAnomaly").focus == "delete"
    assert provider_for("VM_EICAR") is None


@pytest.mark.django_db
def test_the_alert_page_makes_the_same_number_of_queries_for_one_day_or_two_weeks_of_logs(analyst_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for days, name in ((1, "Short"), (15, "Long")):
        device, account, spec = make_device(name)
        account.name = f"acct{name.lower()}"
        account.save()
        episode = exfiltration_episode(account.name, NOW, SEED)
        ingest_generated_logs(account, spec, episode, days=days)
        alert = factories.exfiltration_alert(account, episode)
        with CaptureQueriesContext(connection) as queries:
            assert analyst_client.get(reverse("alerts:detail", args=[alert.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_an_alert_whose_client_left_no_log_line_shows_the_whole_account_and_says_so(analyst_client):
    device, account, spec = make_device()
    episode = exfiltration_episode(account.name, NOW, SEED)
    ingest_generated_logs(account, spec, episode, days=3)
    alert = factories.exfiltration_alert(account, episode)
    alert.details.typed_properties["client_ip"] = "198.51.100.9"
    alert.details.save()
    html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert "made no logged request to contosodata" in html
    assert "all principals on the account" in html
    assert 'id="usual-summary"' in html


@pytest.mark.django_db
def test_a_principal_never_seen_before_is_compared_with_the_whole_account(analyst_client):
    device, account, spec = make_device()
    episode = exfiltration_episode(account.name, NOW, SEED)
    ingest_generated_logs(account, spec, episode, days=3)
    alert = factories.exfiltration_alert(account, episode)
    html = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert "the whole account usually moves" in html
