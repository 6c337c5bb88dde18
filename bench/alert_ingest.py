"""Alert ingest and alert list speed. Prints figures; never run as a test.

    .venv/bin/python bench/alert_ingest.py [--alerts 20000] [--list-alerts 100000] [--requests 40]

1. Ingest against bare paging, same run: the simulator serves `--alerts` alerts; first the wrapper's pages
   are only iterated (SDK paging and deserialization, nothing stored), then `poll_subscription` pages and
   ingests them into an empty database. Goal: ingest <= 1.5x paging.
2. The alert list at `--list-alerts` stored alerts (synthetic, through the same Ingester): response time of
   the list page under common filters, p50 and p95. Goal: p95 under 150 ms on SQLite.
Uses its own SQLite file in a temporary directory unless DATABASE_URL is set.
"""

import argparse
import os
import random
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
os.environ.setdefault("ASCMON_Q_SYNC", "1")
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
os.environ.setdefault("ASCMON_LOG_LEVEL", "WARNING")
os.environ["DJANGO_SETTINGS_MODULE"] = "ascmon.settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from alerts.choices import ChangeSource  # noqa: E402
from alerts.ingest import Ingester  # noqa: E402
from alerts.models import Alert  # noqa: E402
from alerts.samples import raw_alert  # noqa: E402
from devices.models import Device  # noqa: E402

TYPES = [
    ("Storage.Blob_SuspiciousIp", "Access from a suspicious IP address"),
    ("Storage.Blob_DataExfiltration.AmountOfDataAnomaly", "Unusual amount of data extracted"),
    ("Storage.Blob_GeoAnomaly", "Access from an unusual location to a storage account"),
    ("VM_SuspiciousCommandLine", "Suspicious command line"),
    ("SQL.DB_BruteForce", "A possible brute force attack on SQL"),
    ("KV_SuspiciousIPAccess", "Access from a suspicious IP address to a key vault"),
    ("ARM_AnomalousOperation", "Anomalous Resource Manager operation"),
    ("Storage.Blob_SuspiciousApp", "PREVIEW - Access from a suspicious application"),
    ("CosmosDB_NewDetection", "Something ascmon has not seen"),
]
SEVERITIES = ["Low", "Medium", "High", "Informational"]


def device(name):
    found = Device.objects.filter(name=name).first()
    if found:
        return found
    created = Device(name=name, tenant_id="bench-tenant", client_id="bench-client")
    created.set_secret("bench")
    created.save()
    return created


def synthetic(count, seed=7):
    rng, start = random.Random(seed), datetime(2026, 10, 1, tzinfo=UTC)
    for i in range(count):
        alert_type, name = TYPES[i % len(TYPES)]
        yield raw_alert(
            alert_type,
            name,
            name=f"2517{i:012d}_bench",
            severity=rng.choice(SEVERITIES),
            start=start + timedelta(minutes=i),
            compromised=f"account{rng.randrange(200)}",
            entities=[{"type": "ip", "address": f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"}],
        )


def fill(count, page=1000):
    target, started, batch = device("bench-list"), time.monotonic(), []
    ingester = Ingester(target, ChangeSource.IMPORT)
    for raw in synthetic(count):
        batch.append(raw)
        if len(batch) == page:
            ingester.ingest_page(batch)
            batch = []
    if batch:
        ingester.ingest_page(batch)
    return time.monotonic() - started


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def list_timings(requests):
    user = User.objects.create_user("bench-analyst", password="x")
    user.groups.add(Group.objects.get_or_create(name="analyst")[0])
    client = Client()
    client.force_login(user)
    scenarios = {
        "default": {},
        "page 50": {"page": "50"},
        "severity high": {"severity": "high"},
        "sort by severity": {"sort": "-severity"},
        "type filter": {"alert_type": "SQL.DB_BruteForce"},
        "search IP": {"q": "198.51.7."},
        "suppressed only": {"suppressed": "only"},
        "new types": {"new_types": "on"},
    }
    results = {}
    for label, params in scenarios.items():
        client.get("/alerts/", params)  # warm
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/alerts/", params, headers={"HX-Request": "true"})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        results[label] = times
    return results


def bench_simulator(count):
    """Bare paging vs poll ingest against the ARM simulator; None when the simulator is not available."""
    try:
        from ascmon.simulator import bench_support
    except ImportError:
        return None
    return bench_support.ingest_vs_paging(count, device("bench-sim"))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--list-alerts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {os.environ['DATABASE_URL']}")

    figures = bench_simulator(args.alerts)
    if figures:
        print(figures)
    else:
        print("ingest vs paging: skipped (no simulator available)")

    seconds = fill(args.list_alerts)
    stored = Alert.objects.count()
    rate = stored / seconds
    print(f"synthetic ingest (no network): {stored} alerts in {seconds:.1f} s = {rate:.0f} alerts/s")
    results = list_timings(args.requests)
    everything = [t for times in results.values() for t in times]
    print(f"alert list at {stored} alerts, {args.requests} htmx requests per scenario (ms):")
    for label, times in results.items():
        print(f"  {label:18} p50 {statistics.median(times):7.1f}   p95 {percentile(times, 0.95):7.1f}")
    print(f"  {'all':18} p50 {statistics.median(everything):7.1f}   p95 {percentile(everything, 0.95):7.1f}")


if __name__ == "__main__":
    main()
