"""Pages escape log text, the policy admin previews before saving, reduce_logs prints its JSON."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from ascmon.azure import blobs
from ascmon.simulator.storage_activity import load_account, write_log_files
from storage_logs.models import AggregationPolicy, DailyVolume, IngestRun, LogAggregate
from tests import data
from tests.test_storage_ingest import make_account

EVIL = '<script>alert("ua")</script>'
WHEN = datetime(2026, 6, 1, 10, tzinfo=UTC)


class FakeAzurite:
    def endpoint(self, name):
        return f"http://127.0.0.1:9/{name}"


@pytest.mark.django_db
def test_user_agents_blob_names_and_rejected_lines_are_escaped(analyst_client):
    account, _ = make_account("evil", FakeAzurite())
    LogAggregate.objects.create(
        account=account,
        kind="read",
        window_start=WHEN,
        window_end=WHEN + timedelta(hours=1),
        operation="GetBlob",
        principal_kind="anonymous",
        user_agent=EVIL,
        container="<b>box</b>",
        count=2,
        first_time=WHEN,
        last_time=WHEN,
        sample_objects=['<img src=x onerror="alert(1)">'],
        status_counts={"200": 2},
    )
    IngestRun.objects.create(
        task="account_hour",
        account=account,
        rejected=1,
        rejected_samples=[{"line": "<script>bad()</script>", "reason": "<i>x</i>"}],
    )
    page = analyst_client.get(reverse("storage_logs:account", args=[account.pk])).content.decode()
    assert "&lt;script&gt;alert(&quot;ua&quot;)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page and "<img src=x" not in page
    assert "&lt;b&gt;box&lt;/b&gt;" in page and "<script>bad()" not in page and "<i>x</i>" not in page


@pytest.mark.django_db
@pytest.mark.peers
def test_the_policy_admin_previews_the_reduction_without_saving(admin_client_, azurite, monkeypatch):
    account, spec = make_account("ascmonlogs1", azurite)
    access = blobs.BlobAccess(account.blob_endpoint, account.name, azurite.accounts[account.name])
    day = datetime(2026, 6, 20, tzinfo=UTC)
    load_account(access, spec, day, day + timedelta(hours=3), seed=21)
    DailyVolume.objects.create(account=account, day=day.date())
    monkeypatch.setattr("storage_logs.tasks.account_access", lambda account, key=None: access)
    policy = AggregationPolicy.objects.get(kind="read")
    url = reverse("admin:storage_logs_aggregationpolicy_change", args=[policy.pk])
    form = {"kind": "read", "by_operation": "on", "window_minutes": "1440", "preview_account": account.pk}
    page = admin_client_.post(url, {**form, "_preview": "Preview"}).content.decode()
    assert "Preview on ascmonlogs1 (2026-06-20)" in page and "read operations" in page
    policy.refresh_from_db()
    assert policy.window_minutes == 60 and policy.by_principal
    admin_client_.post(url, {**form, "_save": "Save"})
    policy.refresh_from_db()
    assert policy.window_minutes == 1440 and not policy.by_principal


@pytest.mark.django_db
def test_reduce_logs_prints_one_reconciled_json_object(tmp_path):
    write_log_files(tmp_path, 3000)
    out = StringIO()
    call_command(
        "reduce_logs",
        str(tmp_path / "real"),
        str(tmp_path / "clean"),
        str(data.path("storage-analytics-logging-samples.log")),
        "--workers",
        "2",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    assert set(result) >= {
        "lines",
        "rejected",
        "records",
        "raw_bytes",
        "aggregate_bytes",
        "reduction_pct",
        "reconciled",
        "seconds",
    }
    assert result["reconciled"] is True and result["rejected"] == 0 and result["lines"] == 6004
    assert 0 < result["records"] < result["lines"] and 0 < result["reduction_pct"] < 100
