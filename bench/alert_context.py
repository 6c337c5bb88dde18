"""Decision-support speed: the exfiltration alert page over 30 days of a busy account's aggregates.

    .venv/bin/python bench/alert_context.py [--days 30] [--requests 40]

Generates one day of the simulator's "large" profile logs for one account (generating 30 large days takes
over an hour of CPU), runs them through the product's parser and aggregator, stores the aggregates and
copies them onto each of the other days (shifted in time), then renders the alert detail page (with
"what is usual") repeatedly.
Prints raw lines, aggregates stored, p50/p95 page time and the page's query count. Goal: p95 < 300 ms on
SQLite with a fixed number of queries. Uses its own SQLite file unless DATABASE_URL is set.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKDIR = tempfile.mkdtemp(prefix="ascmon-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORKDIR}/bench.sqlite3")
os.environ.setdefault("ASCMON_DEBUG", "1")
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
os.environ.setdefault("ASCMON_LOG_LEVEL", "WARNING")
os.environ["DJANGO_SETTINGS_MODULE"] = "ascmon.settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from ascmon.simulator.storage_activity import AccountLogSpec, classic_log_blobs, exfiltration_episode  # noqa: E402
from storage_logs import parse  # noqa: E402
from storage_logs.aggregate import Aggregator  # noqa: E402
from storage_logs.models import AggregationPolicy, LogAggregate  # noqa: E402
from storage_logs.tasks import _aggregate  # noqa: E402
from tests.test_decision_support import exfiltration_alert  # noqa: E402

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
COLUMNS = [f.attname for f in LogAggregate._meta.concrete_fields if f.attname != "id"]
SUB = "00000000-0000-0000-0000-0000000be001"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from devices.models import Device, StorageAccount, Subscription

    device = Device.objects.create(name="Bench", tenant_id="t", client_id="c", secret_encrypted="x")
    subscription = Subscription.objects.create(device=device, subscription_id=SUB, visible=True)
    spec = AccountLogSpec("busyaccount", SUB, "rg-bench", profile="large")
    account = StorageAccount.objects.create(
        device=device, subscription=subscription, resource_id=spec.resource_id, name=spec.name,
        logging_version="2.0", logging_read=True, logging_write=True, logging_delete=True,
        logging_retention_days=90,
    )  # fmt: skip
    episode = exfiltration_episode(spec.name, NOW, 7)
    started = time.perf_counter()
    engine, rejects, lines = Aggregator(AggregationPolicy.current()), parse.Rejects(), 0
    for blob in classic_log_blobs(spec, NOW - timedelta(days=1), NOW, 7, episode):
        records = parse.records(blob.data.decode(), rejects)
        lines += len(records)
        engine.add(records)
    day = [_aggregate(account, row, "bench") for row in engine.close()]
    LogAggregate.objects.bulk_create(day, batch_size=5000)
    for back in range(1, args.days):
        shift = timedelta(days=back)
        copies = [
            LogAggregate(**{
                **{name: getattr(row, name) for name in COLUMNS},
                "window_start": row.window_start - shift, "window_end": row.window_end - shift,
                "first_time": row.first_time - shift, "last_time": row.last_time - shift,
            })
            for row in day
            if not (row.client_ip == episode.ip and row.first_time >= episode.start - timedelta(hours=1))
        ]  # fmt: skip
        LogAggregate.objects.bulk_create(copies, batch_size=5000)
        lines += sum(row.count for row in copies)
    load_seconds = time.perf_counter() - started
    alert = exfiltration_alert(device, account, episode)

    user = User.objects.create_user("bench", password="x")
    user.groups.add(Group.objects.get(name="analyst"))
    client = Client()
    client.force_login(user)
    url = f"/alerts/{alert.pk}/"
    client.get(url)  # warm caches
    times = []
    for _ in range(args.requests):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200 and b"usual-summary" in response.content
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"database: {connection.vendor}")
    print(
        f"raw log lines represented: {lines:,} over {args.days} days "
        f"(one large day generated and aggregated, copied onto the others; {load_seconds:.0f} s)"
    )
    print(f"aggregates stored: {LogAggregate.objects.count():,}")
    print(
        f"alert page: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {args.requests} requests"
    )
    print(f"queries per page: {len(queries)}")
    print("goal: p95 < 300 ms on SQLite:", "met" if p95 < 300 else "NOT met")


if __name__ == "__main__":
    main()
