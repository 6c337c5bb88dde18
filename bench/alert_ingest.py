"""Alert ingest and alert list speed. Prints figures; never asserts a time.

    .venv/bin/python bench/alert_ingest.py [--alerts 20000] [--list-alerts 100000] [--requests 40]
    .venv/bin/python bench/alert_ingest.py --smoke     # 300 and 500 alerts, 2 requests (the test suite's)

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, setup_django, timed  # noqa: E402

FULL = {"alerts": 20_000, "list_alerts": 100_000, "requests": 40, "page_size": 100}
SMOKE = {"alerts": 300, "list_alerts": 500, "requests": 2, "page_size": 100}
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


def synthetic(count, seed=7):
    """`count` alerts as Alerts_List returns them, of nine types, on 200 accounts, from 65,536 IPs."""
    from tests.factories import raw_alert

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
    """Ingest `count` synthetic alerts a page at a time; returns the seconds it took."""
    from alerts.choices import ChangeSource
    from alerts.ingest import Ingester
    from tests import factories

    started, batch = time.monotonic(), []
    ingester = Ingester(factories.device("bench-list"), ChangeSource.IMPORT)
    for raw in synthetic(count):
        batch.append(raw)
        if len(batch) == page:
            ingester.ingest_page(batch)
            batch = []
    if batch:
        ingester.ingest_page(batch)
    return time.monotonic() - started


def list_timings(requests):
    """{scenario: ([wall ms], [CPU ms]) per htmx request} for the alert list, as an analyst."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

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
        times, cpu = [], []
        for _ in range(requests):
            response, wall_ms, cpu_ms = timed(
                lambda params=params: client.get("/alerts/", params, headers={"HX-Request": "true"})
            )
            assert response.status_code == 200, response.status_code
            times.append(wall_ms)
            cpu.append(cpu_ms)
        results[label] = times, cpu
    return results


def serve_padded(count, page_size):
    """Child process: the ARM simulator with the demo subscription padded to `count` alerts."""
    import copy
    import json

    from ascmon.simulator import scenario as scenario_module
    from ascmon.simulator import server

    scenario = scenario_module.build(1, "small")
    sub = scenario.demo_tenant().subscriptions[0].subscription_id
    seeds = [a for a in scenario.alerts[sub] if isinstance(a["properties"]["alertType"], str)]
    padded = []
    for i in range(count):
        alert = copy.deepcopy(seeds[i % len(seeds)])
        name = f"{alert['name']}-{i}"
        alert["id"] = alert["id"].rsplit("/", 1)[0] + "/" + name
        alert["name"] = alert["properties"]["systemAlertId"] = name
        padded.append(alert)
    scenario.alerts[sub] = padded
    with tempfile.TemporaryDirectory(prefix="ascmon-bench-sim-") as folder:  # the CA's files
        httpd, ca = server.serve(scenario, "http://127.0.0.1:1", folder=folder, page_size=page_size)
        print(json.dumps({"url": httpd.base_url, "ca": ca, "subscription": sub}), flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin


def bench_simulator(count, page_size):
    """Bare paging vs poll ingest of `count` alerts served over HTTPS by the simulator, same run."""
    import json
    import subprocess

    from django.test import override_settings

    from alerts.tasks import poll_subscription
    from ascmon.azure import security
    from ascmon.azure.credentials import Tenant
    from ascmon.simulator import scenario as scenario_module
    from tests import factories

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count), "--page-size", str(page_size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(child.stdout.readline())
        peer = {"AZURE_MANAGEMENT_URL": info["url"], "AZURE_AUTHORITY_HOST": info["url"]}
        with override_settings(**peer, AZURE_CA_BUNDLE=info["ca"]):
            demo = scenario_module.build(1, "small").demo_tenant()
            tenant = Tenant(demo.tenant_id, demo.client_id, demo.client_secret)
            target = factories.device(
                "bench-sim", tenant_id=demo.tenant_id, client_id=demo.client_id, secret=demo.client_secret,
                subscriptions={info["subscription"]: True},
            )  # fmt: skip
            list(security.iter_alert_pages(tenant, info["subscription"]))  # warm: token, TLS, client
            started = time.monotonic()
            pages = security.iter_alert_pages(tenant, info["subscription"])
            paged = sum(len(page.alerts) for page in pages)
            paging = time.monotonic() - started
            started = time.monotonic()
            sdk = len(security.list_alerts_via_sdk(tenant, info["subscription"]))
            sdk_paging = time.monotonic() - started
            first = poll_subscription(target, info["subscription"])
            second = poll_subscription(target, info["subscription"])
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    return [
        f"simulator: {paged} alerts, {page_size} per page, HTTPS through azure-mgmt-security",
        f"  bare paging (wrapper pages, SDK pipeline):  {paging:7.2f} s",
        f"  SDK's own paging and models ({sdk} alerts): {sdk_paging:7.2f} s",
        f"  poll, empty database (page + ingest):     {first.duration_seconds:7.2f} s"
        f"  = {first.duration_seconds / paging:.2f}x bare paging; created {first.created}",
        f"  poll again, nothing changed:               {second.duration_seconds:7.2f} s"
        f"  = {second.duration_seconds / paging:.2f}x; unchanged {second.unchanged}",
    ]


def run(alerts, list_alerts, requests, page_size, out=sys.stdout):
    """Poll `alerts` alerts from the simulator against bare paging, then time the alert list at
    `list_alerts` more (either part is left out when its count is 0)."""
    from django.db import connection

    from alerts.models import Alert

    out.write(f"database: {connection.vendor} {connection.settings_dict['NAME']}\n")
    for line in bench_simulator(alerts, page_size) if alerts else ():
        out.write(line + "\n")
        out.flush()
    if not list_alerts:
        return
    seconds = fill(list_alerts)
    out.write(
        f"synthetic ingest (no network): {list_alerts} alerts in {seconds:.1f} s "
        f"= {list_alerts / seconds:.0f} alerts/s\n"
    )
    results = list_timings(requests)
    everything = tuple([t for pair in results.values() for t in pair[part]] for part in (0, 1))
    out.write(
        f"alert list at {Alert.objects.count()} alerts, {requests} htmx requests per scenario (ms; "
        "this process's CPU after the wall time):\n"
    )
    for label, (times, cpu) in (*results.items(), ("all", everything)):
        out.write(
            f"  {label:18} p50 {statistics.median(times):7.1f}   p95 {percentile(times, 0.95):7.1f}"
            f"   cpu p50 {statistics.median(cpu):7.1f}   p95 {percentile(cpu, 0.95):7.1f}\n"
        )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="a small run: " + str(SMOKE))
    parser.add_argument("--alerts", type=int)
    parser.add_argument("--list-alerts", type=int)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--page-size", type=int)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = dict(SMOKE if args.smoke else FULL)
    sizes.update({name: getattr(args, name) for name in sizes if getattr(args, name) is not None})
    if args.serve:
        return serve_padded(args.serve, sizes["page_size"])
    # Measured against bare SDK paging, which has no per-tenant budget of calls: lift ours out of the way.
    os.environ.setdefault("ASCMON_AZURE_CALLS_PER_SECOND", "1000000")
    setup_django()
    run(**sizes)


if __name__ == "__main__":
    main()
