"""Storage logs as an operator scaling out runs them: two `manage.py qcluster` processes (two workers each) on
PostgreSQL and the Redis broker, fed by the sweep, one cluster killed with SIGKILL in the middle of
ingestion. Redis acknowledges nothing, so the killed cluster's tasks are simply gone: the next sweeps close
their runs and queue their hours again. At the end every line in Azurite is stored exactly once."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from devices.tasks import run_inventory
from storage_logs.models import AggregationPolicy, IngestRun, LogAggregate
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "")


def production_env(peers):
    db = settings.DATABASES["default"]
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SETTINGS")},
        **peers.environment(),  # the simulator, and Azurite among the blob hosts ascmon may contact
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        "ASCMON_DEBUG": "1",
        "ASCMON_Q_SYNC": "0",
        "ASCMON_Q_WORKERS": "2",
        "ASCMON_LOG_LEVEL": "ERROR",
        "ASCMON_INGEST_BATCH_BYTES": str(16 * 1024),  # many batches: the kill lands in the middle of some
        "ASCMON_INGEST_RUN_TIMEOUT_MINUTES": "0.1",  # a run that stored nothing for 6 s lost its worker
        "ASCMON_INGEST_QUEUE_TIMEOUT_MINUTES": "0.1",
        "ASCMON_INGEST_RECHECK_MINUTES": "60",
        # spans of four hours (listed by day): a day of logs is many tasks, so the kill lands among them
        "ASCMON_INGEST_SPAN_HOURS": "4",
    }


def manage(env, *args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs,
    )  # fmt: skip


def run_sweep(env):
    """One sweep in a process of its own, as the schedule runs it; returns how many hours it queued."""
    sweep = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from storage_logs.tasks import sweep; print(sweep())"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr
    return int(sweep.stdout.split()[-1])


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def open_runs(device):
    return IngestRun.objects.filter(device=device, task="account_hour", status__in=IngestRun.OPEN).count()


def stored_by_group(device):
    out = Counter()
    for row in LogAggregate.objects.filter(account__device=device):
        who = (row.principal_kind, row.principal_id)
        key = (row.account.name, row.window_start.date().isoformat(), row.operation, who, row.client_ip)
        out[key + ("count",)] += row.count
        out[key + ("response",)] += row.response_bytes
    return out


def hour_of(name):
    """The hour a log blob belongs to, from its name (classic $logs or an Azure Monitor archive)."""
    match = re.search(r"(\d{4})/(\d\d)/(\d\d)/(\d\d)00/", name) or re.search(
        r"y=(\d{4})/m=(\d\d)/d=(\d\d)/h=(\d\d)/", name
    )
    return datetime(*map(int, match.groups()), tzinfo=UTC)


def raw_by_group(device, since, until):
    """What every line in Azurite of the device's accounts, in hours [since, until], says (repeats once)."""
    from ascmon.azure import blobs
    from ascmon.azure.errors import NotFound
    from ascmon.simulator.scenario import account_key
    from storage_logs import ingest, parse

    unique = {}
    for account in device.storage_accounts.all():
        access = blobs.BlobAccess(account.blob_endpoint, account.name, account_key(account.name))
        for container in ("$logs", *ingest.MONITOR_CONTAINERS):
            try:
                listed = blobs.list_blobs(access, container, "")
            except NotFound:
                continue
            for info in listed:
                if since <= hour_of(info.name) <= until:
                    data = b"".join(blobs.read_blob(access, container, info.name)).decode()
                    for r in parse.records(data, parse.Rejects()):  # a request logged twice counts once,
                        unique.setdefault((account.name, r[parse.RID], r[parse.OPC]), r)  # as first read
    totals = Counter()
    for (account, _, _), r in unique.items():
        key = (account, r[parse.DATE], r[parse.OP], parse.principal_of(r), r[parse.IP])
        totals[key + ("count",)] += 1
        totals[key + ("response",)] += int(r[parse.RESP])
    return totals


@pytest.mark.peers
@pytest.mark.skipif(
    not REDIS_URL or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="clusters run against PostgreSQL and Redis: the production path, CI's second run",
)
@pytest.mark.django_db(transaction=True)
def test_two_clusters_one_killed_mid_ingestion_store_every_line_of_azurite_exactly_once(simulated_azure):
    import redis

    peers = simulated_azure
    peers.load_logs(days=1)
    redis.Redis.from_url(REDIS_URL).flushdb()  # this suite's own Redis database: nothing queued from before
    tenant = peers.demo_tenant()
    credentials = {name: tenant[name] for name in ("tenant_id", "client_id")}
    device = factories.device(
        "workers",
        secret=tenant["client_secret"],
        expected_subscriptions=tenant["expected_subscriptions"],
        **credentials,
    )
    run_inventory(device.id, follow_up=False)  # the accounts and their logging, through ARM as in production
    assert device.storage_accounts.exists()
    AggregationPolicy.objects.update_or_create(kind="read", defaults={"window_minutes": 1440})  # day windows
    connection.close()

    env = production_env(peers)
    clusters = [manage(env, "qcluster"), manage(env, "qcluster")]
    try:
        assert run_sweep(env) > 20
        wait_for(lambda: IngestRun.objects.filter(device=device, status=IngestRun.OK).count() >= 5, 120,
                 "the clusters to store some hours")  # fmt: skip
        os.killpg(clusters[0].pid, signal.SIGKILL)  # the whole cluster: its sentinel and both workers
        clusters[0].wait()
        for _ in range(30):
            time.sleep(
                7
            )  # the killed cluster's runs fall silent; the sweep closes them and queues their hours
            if run_sweep(env) == 0 and open_runs(device) == 0:
                break
            wait_for(lambda: open_runs(device) == 0, 180, "the other cluster to read the queued hours")
    finally:
        for cluster in clusters:
            if cluster.poll() is None:
                os.killpg(cluster.pid, signal.SIGTERM)
                try:
                    cluster.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(cluster.pid, signal.SIGKILL)
    assert IngestRun.objects.filter(device=device, status=IngestRun.ABANDONED).exists()  # the kill lost some
    assert open_runs(device) == 0  # every run ended
    runs = IngestRun.objects.filter(device=device, task="account_hour")
    read = [hour for run in runs for hour in run.hours()]
    assert stored_by_group(device) == raw_by_group(device, min(read), max(read))
