"""Ingestion workers as production runs them, in processes of their own against the suite's database engine
(SQLite, or PostgreSQL in CI): killed with SIGKILL mid-blob or in the middle of merging a batch, or two of
them on the same hour at once. Every time the stored aggregates are exactly a clean run's."""

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
from storage_logs import rows, store, tasks
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
stored, write = store.store, rows.write_merged

def paced(*args):
    result = stored(*args)
    print("batch", flush=True)
    time.sleep(float(os.environ["PAUSE"]))
    return result

def merging(cursor, merged):
    # stored rows were read and merged in; the batch's new rows are written, its merged rows about to be
    print("merging", flush=True)
    time.sleep(float(os.environ["PAUSE"]))
    return write(cursor, merged)

store.store, rows.write_merged = paced, merging
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
        start_new_session=True,  # its download thread dies with it
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


@pytest.fixture
def workers(azurite, tmp_path):
    """The environment of worker processes: a database of their own (a file, or a fresh PostgreSQL
    database when the suite runs on PostgreSQL), migrated, and an hour of a busy account's logs."""
    from django.db import connection

    spec = AccountLogSpec(NAME, "00000000-0000-0000-0000-0000000c4a54", "rg-crash", profile="default")
    access = blobs.BlobAccess(azurite.endpoint(NAME), NAME, azurite.accounts[NAME])
    uploaded = load_account(access, spec, HOUR, HOUR + timedelta(hours=1), seed=99)
    assert sum(len(blob.data) for blob in uploaded) > 10 * 64 * 1024
    database, url = None, f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    if connection.vendor == "postgresql":
        database = f"ascmon_workers_{os.getpid()}"
        url = _postgres_database(database, create=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ASCMON_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "ascmon.settings",
        "RID": spec.resource_id,
        "NAME": NAME,
        "HOUR": HOUR.isoformat(),
        "ENDPOINT": azurite.endpoint(NAME),
        "ASCMON_STORAGE_HOST_SUFFIXES": "127.0.0.1",  # Azurite
        "KEY": azurite.accounts[NAME],
        "ASCMON_LOG_LEVEL": "ERROR",
        "ASCMON_INGEST_BATCH_BYTES": str(64 * 1024),
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, capture_output=True
    )
    assert migrate.returncode == 0, migrate.stderr
    yield env, uploaded
    if database:
        _postgres_database(database, create=False)


def _postgres_database(name, create):
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
    with psycopg.connect(
        f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres", autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        if create:
            conn.execute(f"CREATE DATABASE {name}")
    return url


def counted(totals):
    return sum(v for k, v in totals.items() if k[-1] == "count")


def kill_after(process, marker, times):
    seen = 0
    for line in process.stdout:
        seen += line.startswith(marker)
        if seen == times:
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, (seen, process.stderr.read()[-3000:])


def finish_cleanly(env, uploaded):
    second = worker(env, "run")
    output, errors = second.communicate(timeout=120)
    assert second.returncode == 0 and output.strip().endswith("done"), errors
    assert stored(env) == expected(uploaded)
    again = worker(env, "run")  # a rerun after completion adds nothing
    again.communicate(timeout=120)
    assert stored(env) == expected(uploaded)


@pytest.mark.peers
def test_a_worker_killed_mid_blob_and_restarted_stores_exactly_a_clean_runs_aggregates(workers):
    env, uploaded = workers
    kill_after(worker(env, "run", pause="0.02"), "batch", 4)  # while it reads, parses or commits the next
    assert 0 < counted(stored(env)) < counted(expected(uploaded))
    finish_cleanly(env, uploaded)


@pytest.mark.peers
def test_a_worker_killed_while_merging_a_batch_into_stored_rows_loses_and_doubles_nothing(workers):
    env, uploaded = workers
    kill_after(worker(env, "run", pause="5"), "merging", 2)  # stored rows read and merged, not yet written
    assert 0 < counted(stored(env)) < counted(expected(uploaded))
    finish_cleanly(env, uploaded)


@pytest.mark.peers
def test_the_same_hour_ingested_twice_at_once_gives_the_same_rows_as_once(workers):
    env, uploaded = workers
    both = [worker(env, "run", pause="0.01") for _ in range(2)]
    for process in both:
        output, errors = process.communicate(timeout=180)
        assert process.returncode == 0 and output.strip().endswith("done"), errors
    assert stored(env) == expected(uploaded)
