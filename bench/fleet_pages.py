"""Fleet-scale page speed: an MSSP's database, timed page by page. Prints figures; never asserts a time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fleet_bench .venv/bin/python bench/fleet_pages.py
    .venv/bin/python bench/fleet_pages.py --smoke     # 12 devices, 600 alerts, 2 requests (the suite's)

Fills `--devices` devices (2 subscriptions of 9 Defender plans each, `--accounts` storage accounts in all,
findings of several kinds), `--alerts` alerts over 90 days (a tenth suppressed by 20 rules) with bulk
inserts, then times the fleet page, a device page, the alert list (default, sorted, searched by IP and by
text) and the admin's suppression rule list: p50/p95 wall and CPU per htmx request, and the queries of each
page with the first tenth of the fleet and with all of it (a count that does not grow with the fleet).
Goal: p95 < 150 ms each on PostgreSQL. Uses its own SQLite file unless DATABASE_URL is set (then it must
name an empty database: `createdb fleet_bench`).
"""

import argparse
import hashlib
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, setup_django, timed  # noqa: E402

FULL = {"devices": 1000, "accounts": 10_000, "alerts": 1_000_000, "requests": 30}
SMOKE = {"devices": 12, "accounts": 24, "alerts": 600, "requests": 2}
BATCH = 5000
TYPES = [
    ("Storage.Blob_DataExfiltration.AmountOfDataAnomaly", "Unusual amount of data extracted", "High"),
    ("Storage.Blob_SuspiciousIp", "Access from a suspicious IP address", "Medium"),
    ("Storage.Blob_GeoAnomaly", "Access from an unusual location to a storage account", "Low"),
    ("VM_SuspiciousCommandLine", "Suspicious command line", "High"),
    ("SQL.DB_BruteForce", "A possible brute force attack on SQL", "Medium"),
    ("KV_SuspiciousIPAccess", "Access from a suspicious IP address to a key vault", "Medium"),
    ("ARM_AnomalousOperation", "Anomalous Resource Manager operation", "Low"),
    ("ARM.MCAS_ImpossibleTravelActivity", "Impossible travel activity", "Medium"),
    ("VM_EICAR", "Test alert (EICAR)", "Informational"),
    ("CosmosDB_NewDetection", "Something ascmon has not seen", "High"),
]
RANKS = {"Informational": 0, "Low": 1, "Medium": 2, "High": 3}
PLANS = ["VirtualMachines", "SqlServers", "AppServices", "StorageAccounts", "KeyVaults", "Arm", "Dns"]
PLANS += ["Containers", "CloudPosture"]
KINDS = ["plan_off", "read_logging_off", "retention_too_short", "subscription_missing", "alerts_forbidden"]
NOW = datetime.now(UTC).replace(microsecond=0)


def fill_devices(first, count, accounts_per_device, rng):
    """Devices [first, first + count) with their subscriptions, plans, accounts and findings."""
    from ascmon import crypto
    from devices.models import DefenderPlan, Device, Finding, StorageAccount, Subscription

    secret = crypto.encrypt("bench-secret")
    devices = Device.objects.bulk_create(
        Device(
            name=f"tenant-{n:05d}",
            tenant_id=f"t-{n}",
            client_id=f"c-{n}",
            secret_encrypted=secret,
            last_successful_sync_at=NOW - timedelta(minutes=rng.randrange(600)),
        )
        for n in range(first, first + count)
    )
    subs = Subscription.objects.bulk_create(
        Subscription(
            device=d, subscription_id=f"{d.pk:08d}-0000-0000-0000-00000000000{i}", visible=True, expected=True
        )
        for d in devices
        for i in range(2)
    )
    DefenderPlan.objects.bulk_create(
        (
            DefenderPlan(subscription=s, name=p, pricing_tier="Standard" if rng.random() < 0.7 else "Free")
            for s in subs
            for p in PLANS
        ),
        batch_size=BATCH,
    )
    StorageAccount.objects.bulk_create(
        (
            StorageAccount(
                device=s.device,
                subscription=s,
                resource_id=f"/subscriptions/{s.subscription_id}/resourceGroups/rg/providers/"
                f"Microsoft.Storage/storageAccounts/acct{s.pk}x{a}",
                name=f"acct{s.pk}x{a}",
                logging_read=rng.random() < 0.8,
                logging_retention_days=rng.choice((7, 30, 90)),
            )
            for s in subs
            for a in range(accounts_per_device // 2)
        ),
        batch_size=BATCH,
    )
    Finding.objects.bulk_create(
        (
            Finding(
                device=d,
                kind=kind,
                severity="high" if kind in ("subscription_missing", "alerts_forbidden") else "medium",
                subject=f"{d.pk}/{kind}/{i}",
                title=f"{kind} {i}",
                explanation="bench",
                portal_steps="bench",
                cli_command="az bench",
            )
            for d in devices
            for kind in rng.sample(KINDS, rng.randrange(len(KINDS)))
            for i in range(rng.randrange(1, 6))
        ),
        batch_size=BATCH,
    )
    return devices


def fill_rules():
    from alerts.models import SuppressionRule

    return SuppressionRule.objects.bulk_create(
        SuppressionRule(
            alert_type=TYPES[n % len(TYPES)][0],
            entity_pattern=f"10.{n}.*",
            reason=f"Known scanner {n}: a long reason that says why this noise is noise, and who asked",
            expires_at=NOW + timedelta(days=n) if n % 4 == 0 else None,
        )
        for n in range(20)
    )


def alert_rows(devices, count, first_index, rules, rng):
    from alerts.models import Alert

    span = 90 * 24 * 3600
    for i in range(first_index, first_index + count):
        alert_type, name, severity = TYPES[i % len(TYPES)]
        device = devices[i % len(devices)]
        ip = f"198.51.{rng.randrange(256)}.{rng.randrange(256)}"
        at = NOW - timedelta(seconds=rng.randrange(span))
        rule = rules[i % len(rules)] if i % 10 == 0 else None
        yield Alert(
            device_id=device.pk,
            identity=f"bench-{i}|{alert_type}",
            alert_type=alert_type,
            display_name=name,
            severity=severity.lower(),
            severity_rank=RANKS[severity],
            status="Active",
            time_generated=at,
            start_time=at,
            compromised_entity=f"account{i % 10_000}",
            product_name="Azure Security Center",
            entity_text=ip,
            search_text=f"{name}\n{alert_type}\naccount{i % 10_000}\n{ip}".lower(),
            suppressed_by=rule,
            is_new_type=alert_type.startswith("CosmosDB"),
            content_hash=hashlib.sha256(str(i).encode()).hexdigest(),
            first_seen_at=at,
            last_seen_at=at,
        )


def fill_alerts(devices, count, first_index, rules, rng):
    """The ORM's bulk inserts; on PostgreSQL the same rows generated by the server (a million ORM objects
    would take most of an hour on a shared machine)."""
    from django.db import connection

    from alerts.models import Alert

    if connection.vendor == "postgresql":
        return fill_alerts_server_side(devices, count, first_index, rules)
    rows = alert_rows(devices, count, first_index, rules, rng)
    while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
        Alert.objects.bulk_create(batch)


def sql_array(values):
    return "ARRAY[" + ",".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"


def fill_alerts_server_side(devices, count, first_index, rules, chunk=100_000):
    """INSERT … SELECT over generate_series: every column copied from one template row made by the ORM,
    except the ones that vary (the same spread as alert_rows: types, devices, IPs, 90 days, a tenth
    suppressed)."""
    from django.db import connection

    from alerts.models import Alert

    template = next(alert_rows(devices, 1, -1, rules, random.Random(0)))
    template.save()
    types, names, severities = zip(*TYPES, strict=True)
    kind = f"({sql_array(types)})[1 + gs % {len(TYPES)}]"
    name = f"({sql_array(names)})[1 + gs % {len(TYPES)}]"
    ip = "'198.51.' || ((gs * 7919) % 256) || '.' || ((gs * 104723) % 256)"
    at = f"now() - ((gs * 104729) % {90 * 24 * 3600}) * interval '1 second'"
    varying = {
        "device_id": f"({sql_array([d.pk for d in devices])})[1 + gs % {len(devices)}]",
        "identity": f"'bench-' || gs || '|' || {kind}",
        "alert_type": kind,
        "display_name": name,
        "severity": f"lower(({sql_array(severities)})[1 + gs % {len(TYPES)}])",
        "severity_rank": f"({sql_array([RANKS[s] for s in severities])})[1 + gs % {len(TYPES)}]",
        "time_generated": at,
        "start_time": at,
        "first_seen_at": at,
        "last_seen_at": at,
        "compromised_entity": "'account' || (gs % 10000)",
        "entity_text": ip,
        "search_text": f"lower({name} || chr(10) || {kind} || chr(10) || 'account' || (gs % 10000))"
        f" || chr(10) || {ip}",
        "suppressed_by_id": f"CASE WHEN gs % 10 = 0 THEN ({sql_array([r.pk for r in rules])})"
        f"[1 + (gs / 10) % {len(rules)}] END",
        "is_new_type": f"{kind} LIKE 'CosmosDB%'",
        "content_hash": "md5(gs::text)",
    }
    columns = [f.column for f in Alert._meta.concrete_fields if f.column != "id"]
    select = ", ".join(varying.get(c, f"t.{c}") for c in columns)
    with connection.cursor() as cursor:
        for start in range(first_index, first_index + count, chunk):
            end = min(start + chunk, first_index + count) - 1
            cursor.execute(
                f"INSERT INTO alerts_alert ({', '.join(columns)}) SELECT {select} "
                f"FROM alerts_alert t, generate_series({start}::bigint, {end}::bigint) gs "
                f"WHERE t.id = {int(template.pk)}"
            )  # no parameters: the modulo signs stay as they are
    Alert.objects.filter(pk=template.pk).delete()


def fill_types():
    from alerts.models import AlertType

    AlertType.objects.bulk_create(
        [AlertType(name=t, display_name=n, is_new=t.startswith("CosmosDB")) for t, n, _ in TYPES],
        ignore_conflicts=True,
    )


def pages(device):
    return {
        "fleet page": ("/devices/", {}),
        "fleet, one finding kind": ("/devices/", {"kind": "plan_off"}),
        "fleet, plan gaps, page 5": (
            "/devices/",
            {"plan": "StorageAccounts", "coverage": "gaps", "page": "5"},
        ),
        "device page": (f"/devices/{device.pk}/", {}),
        "alert list": ("/alerts/", {}),
        "alerts sorted by severity": ("/alerts/", {"sort": "-severity"}),
        "alerts searched by IP": ("/alerts/", {"q": "198.51.7."}),
        "alerts searched by text": ("/alerts/", {"q": "impossible travel"}),
        "suppression rule list": ("/admin/alerts/suppressionrule/", {}),
    }


def admin_client():
    from django.contrib.auth.models import Group, User
    from django.test import Client

    user, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True})
    user.groups.add(Group.objects.get_or_create(name="admin")[0])
    client = Client()
    client.force_login(user)
    return client


def query_counts(client, device):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for label, (url, params) in pages(device).items():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params, headers={"HX-Request": "true"}).status_code == 200, label
        counts[label] = len(captured)
    return counts


def timings(client, device, requests):
    results = {}
    for label, (url, params) in pages(device).items():
        client.get(url, params)  # warm
        wall, cpu = [], []
        for _ in range(requests):
            response, wall_ms, cpu_ms = timed(
                lambda url=url, params=params: client.get(url, params, headers={"HX-Request": "true"})
            )
            assert response.status_code == 200, (label, response.status_code)
            wall.append(wall_ms)
            cpu.append(cpu_ms)
        results[label] = wall, cpu
    return results


def analyze():
    """What autovacuum does to a table that stopped changing: statistics for the planner, and the
    visibility map that lets index-only scans (the list's counts) skip the table."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # a test's transaction allows no VACUUM: statistics only
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


def run(devices, accounts, alerts, requests, out=sys.stdout):
    """Fill a tenth of the fleet, count each page's queries, fill the rest, count again, then time."""
    from django.db import connection

    out.write(f"database: {connection.vendor} {connection.settings_dict['NAME']}\n")
    rng, started = random.Random(15), time.monotonic()
    fill_types()
    rules = fill_rules()
    tenth = max(1, devices // 10)
    few = fill_devices(0, tenth, accounts // devices, rng)
    fill_alerts(few, alerts // 10, 0, rules, rng)
    analyze()
    client = admin_client()
    before = query_counts(client, few[0])
    rest = fill_devices(tenth, devices - tenth, accounts // devices, rng)
    fill_alerts(few + rest, alerts - alerts // 10, alerts // 10, rules, rng)
    analyze()
    out.write(
        f"filled {devices:,} devices, {2 * devices:,} subscriptions, {accounts:,} storage accounts, "
        f"{alerts:,} alerts in {time.monotonic() - started:.0f} s\n"
    )
    after = query_counts(client, few[0])
    results = timings(client, few[0], requests)
    out.write(f"{requests} htmx requests per page (ms; this process's CPU after the wall time):\n")
    for label, (wall, cpu) in results.items():
        out.write(
            f"  {label:27} p50 {statistics.median(wall):7.1f}   p95 {percentile(wall, 0.95):7.1f}"
            f"   cpu p95 {percentile(cpu, 0.95):7.1f}   queries {before[label]:3} -> {after[label]:3}\n"
        )
    out.write("(queries: with a tenth of the fleet -> with all of it)\n")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="a small run: " + str(SMOKE))
    for name in FULL:
        parser.add_argument(f"--{name}", type=int)
    args = parser.parse_args()
    sizes = dict(SMOKE if args.smoke else FULL)
    sizes.update({name: getattr(args, name) for name in sizes if getattr(args, name) is not None})
    setup_django()
    run(**sizes)


if __name__ == "__main__":
    main()
