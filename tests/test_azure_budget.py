"""Throttling is honoured against the real peers: a throttled blob read waits as Azure's answer says, and
a tenant's ARM calls and blob reads share one budget across processes (Redis, or the machine's file)."""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from ascmon.azure import blobs, budget, security
from ascmon.azure.budget import RedisStore, SQLiteStore
from ascmon.azure.errors import Throttled
from ascmon.simulator.blob_proxy import BlobProxy

ROOT = Path(__file__).resolve().parent.parent
NAME = "ascmonlogs1"
BODY = b"".join(b"line %d of a log blob\n" % n for n in range(200))


@pytest.fixture(params=["file", "redis"])
def two_processes(request, tmp_path):
    """The budget store as two processes see it: two stores on one Redis prefix or one file."""
    if request.param == "redis":
        if not django_settings.REDIS_URL:
            pytest.skip("no REDIS_URL: the PostgreSQL + Redis run of the suite covers Redis")
        prefix = f"{django_settings.AZURE_BUDGET_PREFIX}{uuid.uuid4().hex}:"
        return RedisStore(django_settings.REDIS_URL, prefix), RedisStore(django_settings.REDIS_URL, prefix)
    path = str(tmp_path / "budget.sqlite3")
    return SQLiteStore(path), SQLiteStore(path)


def test_a_tenants_budget_is_one_across_processes_and_its_own(two_processes):
    first, second = two_processes
    now = 1000.25
    assert [first.take("t", now, 3), second.take("t", now, 3), first.take("t", now, 3)] == [0, 0, 0]
    assert second.take("t", now, 3) == pytest.approx(0.75)  # full: wait for the next second
    assert first.take("other tenant", now, 3) == 0
    assert second.take("t", 1001.0, 3) == 0


def test_a_pause_holds_the_tenant_everywhere_until_its_end_and_never_shortens(two_processes):
    first, second = two_processes
    first.pause("t", 1010.0)
    second.pause("t", 1005.0)
    assert second.take("t", 1000.0, 3) == pytest.approx(10.0)
    assert second.paused_until("t") == pytest.approx(1010.0)
    assert first.take("t", 1010.5, 3) == 0


@pytest.fixture(scope="module")
def proxy(azurite):
    """429s on demand in front of the session's Azurite."""
    running = BlobProxy(f"http://127.0.0.1:{azurite.port}").start()
    yield running
    running.stop()


@pytest.fixture
def blob(azurite, proxy):
    """(access through the proxy, container, name) of a fresh blob holding BODY."""
    proxy.reset()
    direct = blobs.BlobAccess(azurite.endpoint(NAME), NAME, azurite.accounts[NAME])
    name = f"{uuid.uuid4().hex}.log"
    blobs.ensure_container(direct, "budget")
    blobs.upload_blob(direct, "budget", name, BODY)
    return blobs.BlobAccess(proxy.endpoint(NAME), NAME, azurite.accounts[NAME]), "budget", name


def test_a_throttled_read_waits_as_retry_after_says_then_reads_it_all(blob, proxy):
    access, container, name = blob
    proxy.add_faults({"match": name, "count": 1, "retry_after": 1})
    assert b"".join(blobs.read_blob(access, container, name)) == BODY
    throttled, read = proxy.arrivals(name)
    assert throttled.status == 429 and read.status in (200, 206)
    assert read.at - throttled.at >= 1.0


def test_a_throttled_read_waits_as_x_ms_retry_after_ms_says(blob, proxy):
    access, container, name = blob
    proxy.add_faults({"match": name, "count": 1, "retry_after": None, "retry_after_ms": 600})
    assert b"".join(blobs.read_blob(access, container, name, offset=10)) == BODY[10:]
    throttled, read = proxy.arrivals(name)
    assert read.at - throttled.at >= 0.6


def test_throttling_that_outlasts_the_retries_is_throttled_with_retry_after(blob, proxy):
    access, container, name = blob
    proxy.add_faults({"match": name, "count": -1, "retry_after": 1})
    with pytest.raises(Throttled) as caught:
        list(blobs.read_blob(access, container, name))
    assert caught.value.retry_after == 1 and caught.value.retryable
    assert len(proxy.arrivals(name)) == django_settings.AZURE_RETRY_TOTAL + 1


def test_a_wait_longer_than_a_worker_should_block_is_handed_back_and_holds_the_tenant(blob, proxy, settings):
    settings.AZURE_MAX_WAIT_SECONDS = 5
    access, container, name = blob
    tenant_access = blobs.BlobAccess(
        access.blob_endpoint, NAME, access.account_key, tenant_id=uuid.uuid4().hex
    )
    proxy.add_faults({"match": name, "count": 1, "retry_after": 120})
    with pytest.raises(Throttled) as caught:
        list(blobs.read_blob(tenant_access, container, name))
    assert caught.value.retry_after == 120
    with pytest.raises(Throttled):  # the tenant is paused: nothing more is sent for it
        blobs.list_blobs(tenant_access, container, "")
    assert len(proxy.arrivals()) == 1


WORKER = """
import os, sys
import django
django.setup()
from ascmon.azure import blobs, storage
from ascmon.azure.credentials import Tenant
from ascmon.azure.errors import NotFound

print("ready", flush=True)
sys.stdin.readline()
if os.environ["MODE"] == "tenant":  # as ingestion does: the key from listKeys, then the blobs
    tenant = Tenant(os.environ["TENANT"], os.environ["CLIENT"], os.environ["SECRET"])
    key = storage.get_account_key(tenant, os.environ["ACCOUNT_ID"])
    access = blobs.BlobAccess(os.environ["ENDPOINT"], os.environ["NAME"], key)
else:
    access = blobs.BlobAccess(os.environ["ENDPOINT"], os.environ["NAME"], os.environ["KEY"],
                              tenant_id=os.environ["TENANT"])
for _ in range(int(os.environ["READS"])):
    try:
        blobs.list_blobs(access, "budget", "")
    except NotFound:  # an answer all the same: the request reached the peer
        pass
print("done", flush=True)
"""


def worker(**env):
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "ascmon.settings_test", **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def finish(process):
    output, _ = process.communicate("go\n", timeout=120)
    assert process.returncode == 0 and output.strip() == "done"


@pytest.mark.peers
def test_a_429_from_arm_holds_the_tenants_blob_reads_in_another_process(simulated_azure):
    peers = simulated_azure
    proxy = BlobProxy(peers.azurite_url).start()
    try:
        tenant = peers.tenant()
        subscription = peers.scenario.demo_tenant().subscriptions[0]
        spec = next(
            s for s in peers.scenario.all_accounts() if s.subscription_id == subscription.subscription_id
        )
        other = worker(
            MODE="tenant", TENANT=tenant.tenant_id, CLIENT=tenant.client_id, SECRET=tenant.client_secret,
            ACCOUNT_ID=spec.resource_id, ENDPOINT=proxy.endpoint(spec.name), NAME=spec.name, READS="1",
            **peers.arm.environment(),
        )  # fmt: skip
        peers.arm.add_faults({"kind": "429", "match": "/pricings", "count": 1, "retry_after": 2})
        arm_call = threading.Thread(
            target=security.list_pricings, args=(tenant, subscription.subscription_id), daemon=True
        )
        arm_call.start()
        key = budget.tenant_key(tenant.tenant_id)
        while not budget.store().paused_until(key):
            time.sleep(0.05)
        paused_until = budget.store().paused_until(key)
        finish(other)
        arm_call.join(timeout=30)
        [read] = proxy.arrivals(f"/{spec.name}")  # after listKeys, which waited too, as in ingestion
        assert read.at >= paused_until
    finally:
        proxy.stop()


def test_processes_reading_for_one_tenant_share_its_budget(azurite, proxy):
    proxy.reset()
    per_second, reads = 5, 15
    tenant = uuid.uuid4().hex
    env = dict(
        MODE="explicit", TENANT=tenant, ENDPOINT=proxy.endpoint(NAME), NAME=NAME, KEY=azurite.accounts[NAME],
        READS=str(reads), ASCMON_AZURE_CALLS_PER_SECOND=str(per_second),
    )  # fmt: skip
    first, second = worker(**env), worker(**env)
    threads = [threading.Thread(target=finish, args=(process,)) for process in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    times = sorted(arrival.at for arrival in proxy.arrivals(f"/{NAME}"))
    assert len(times) == 2 * reads
    # 30 calls at 5 a second need six one-second windows: the first and the last are over 4 s apart.
    # Two budgets of their own would have let both processes through in three windows (under 3 s).
    assert times[-1] - times[0] >= 3.5
