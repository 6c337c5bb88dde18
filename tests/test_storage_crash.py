"""kill -9 an ingestion worker in the middle of a blob, restart it: exactly the aggregates of a clean run."""

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ascmon.azure import blobs
from ascmon.simulator.storage_activity import AccountLogSpec, load_account
from storage_logs import parse
from storage_logs.aggregate import DEFAULT_POLICIES, Aggregator

ROOT = Path(__file__).resolve().parents[1]
HOUR = datetime(2026, 7, 7, 14, tzinfo=UTC)
NAME = "ascmonlogs2"

WORKER = """
import json, os, sys, time
import django
django.setup()
from ascmon.azure import blobs
from devices.models import Device, StorageAccount, Subscription
from storage_logs import store, tasks
from storage_logs.models import LogAggregate

device, _ = Device.objects.get_or_create(name="Crash", defaults={"tenant_id": "t", "client_id": "c",
                                                                 "secret_encrypted": "x"})
sub, _ = Subscription.objects.get_or_create(device=device, subscription_id="s")
account, _ = StorageAccount.objects.get_or_create(
    device=device, resource_id=os.environ["RID"],
    defaults={"subscription": sub, "name": os.environ["NAME"], "blob_endpoint": os.environ["ENDPOINT"],
              "logging_version": "2.0", "logging_read": True, "logging_write": True, "logging_delete": True})
if sys.argv[1] == "dump":
    print(json.dumps([[a.window_start.isoformat(), a.operation, a.principal_kind, a.principal_id, a.client_ip,
                       a.user_agent, a.container, a.object_key, a.count, a.request_bytes, a.response_bytes]
                      for a in LogAggregate.objects.filter(account=account)]))
    sys.exit(0)

# The test's own instruments: Azurite's key (production asks ARM), and a pause after each stored batch.
tasks.account_access = lambda account: blobs.BlobAccess(account.blob_endpoint, account.name,
                                                        os.environ["KEY"])
stored = store.store

def paced(*args):
    result = stored(*args)
    print("batch", flush=True)
    time.sleep(float(os.environ["PAUSE"]))
    return result

store.store = paced
tasks.ingest_account_hour(account.id, os.environ["HOUR"])
print("done", flush=True)
"""


def worker(env, mode, pause="0"):
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, mode],
        cwd=ROOT,
        env={**env, "PAUSE": pause},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def key_of(row):
    return tuple(row[:8])


def expected(uploaded):
    engine = Aggregator(DEFAULT_POLICIES)
    for blob in uploaded:
        engine.add(parse.records(blob.data.decode(), parse.Rejects()))
    totals = Counter()
    for r in engine.close():
        key = (
            r["window_start"].replace(tzinfo=None).isoformat(),
            r["operation"],
            r["principal_kind"],
            r["principal_id"],
            r["client_ip"],
            r["user_agent"],
            r["container"],
            r["object_key"],
        )
        totals[key + ("count",)] += r["count"]
        totals[key + ("request",)] += r["request_bytes"]
        totals[key + ("response",)] += r["response_bytes"]
    return totals


def stored(env):
    out = subprocess.run(
        [sys.executable, "-c", WORKER, "dump"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    totals = Counter()
    for row in json.loads(out.stdout):
        start = datetime.fromisoformat(row[0]).astimezone(UTC).replace(tzinfo=None).isoformat()
        key = (start, *row[1:8])
        totals[key + ("count",)] += row[8]
        totals[key + ("request",)] += row[9]
        totals[key + ("response",)] += row[10]
    return totals


@pytest.mark.peers
def test_a_worker_killed_mid_blob_and_restarted_stores_exactly_a_clean_runs_aggregates(azurite, tmp_path):
    spec = AccountLogSpec(NAME, "00000000-0000-0000-0000-0000000c4a54", "rg-crash", profile="default")
    access = blobs.BlobAccess(azurite.endpoint(NAME), NAME, azurite.accounts[NAME])
    uploaded = load_account(access, spec, HOUR, HOUR + timedelta(hours=1), seed=99)
    assert sum(len(blob.data) for blob in uploaded) > 10 * 64 * 1024
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crash.sqlite3'}",
        "ASCMON_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "ascmon.settings",
        "RID": spec.resource_id,
        "NAME": NAME,
        "HOUR": HOUR.isoformat(),
        "ENDPOINT": azurite.endpoint(NAME),
        "KEY": azurite.accounts[NAME],
        "ASCMON_LOG_LEVEL": "ERROR",
        "ASCMON_INGEST_BATCH_BYTES": str(64 * 1024),
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, capture_output=True
    )
    assert migrate.returncode == 0, migrate.stderr

    first = worker(env, "run", pause="0.02")
    batches = 0
    for line in first.stdout:
        batches += line.startswith("batch")
        if batches == 4:
            break
    os.kill(first.pid, signal.SIGKILL)  # while it reads, parses or commits the next batch
    first.wait()
    assert first.returncode == -signal.SIGKILL, (batches, first.stderr.read()[-3000:])
    partial = stored(env)
    assert (
        0
        < sum(v for k, v in partial.items() if k[-1] == "count")
        < sum(v for k, v in expected(uploaded).items() if k[-1] == "count")
    )

    second = worker(env, "run")
    output, errors = second.communicate(timeout=120)
    assert second.returncode == 0 and output.strip().endswith("done"), errors
    assert stored(env) == expected(uploaded)

    again = worker(env, "run")  # a rerun after completion adds nothing
    again.communicate(timeout=120)
    assert stored(env) == expected(uploaded)
