"""Start the protocol peers the product talks to: the ARM simulator (HTTPS) and Azurite, on free ports.

`start_demo_peers(size, stdout)` is what `manage.py demo` and `manage.py simulate` call; the pytest
fixtures in tests/peers.py use `start_arm_simulator` and `start_azurite` directly. Every child process
runs in its own session, so the demo can stop each group without touching the terminal's.
"""

import atexit
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ascmon.simulator import azurite
from ascmon.simulator import scenario as scenario_module

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ArmSimulator:
    """A running simulator process and the scenario it serves; the control methods drive /_sim/*."""

    process: subprocess.Popen
    url: str
    ca: str
    scenario: object

    def control(self, action, **payload):
        request = urllib.request.Request(
            f"{self.url}/_sim/{action}",
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        context = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return json.loads(response.read())

    def add_faults(self, *faults, replace=False):
        """Each fault: {"kind": 429|500|503|slow|truncated|invalid|expired_token, "match", "count", ...}."""
        return self.control("faults", faults=list(faults), replace=replace)

    def clear_faults(self):
        return self.control("clear")

    def fix(self, tenant_id):
        """The tenant's "fixed" configuration: all subscriptions granted and enabled, plans and logging on."""
        return self.control("fix", tenant_id=tenant_id)

    def unfix(self, tenant_id):
        return self.control("unfix", tenant_id=tenant_id)

    def deny_activity_log(self, tenant_id, denied=True):
        """Whether the tenant's app may read the Activity Log (as if its Reader role were missing)."""
        return self.control("deny" if denied else "allow", tenant_id=tenant_id)

    def advance(self, seconds):
        """Move the simulated clock: scheduled status changes and new alerts become visible."""
        return self.control("advance", seconds=seconds)

    def set_page_size(self, page_size):
        return self.control("config", page_size=page_size)

    def state(self):
        return self.control("state")

    def reset(self):
        return self.control("reset")

    def environment(self):
        return {
            "AZURE_MANAGEMENT_URL": self.url,
            "AZURE_AUTHORITY_HOST": self.url,
            "AZURE_CA_BUNDLE": self.ca,
        }

    def stop(self):
        stop_process(self.process)


def stop_process(process, timeout=10):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):  # not a group leader
                process.kill()
            process.wait()


def start_arm_simulator(
    size="small",
    seed=1,
    azurite_url="http://127.0.0.1:10000",
    now=None,
    extra_alerts=0,
    page_size=20,
    faults=(),
):
    """The simulator in its own process; `faults` are switched on from the start (see ArmSimulator)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    command = [
        sys.executable,
        "-m",
        "ascmon.simulator.server",
        "--size",
        size,
        "--seed",
        str(seed),
        "--now",
        now.isoformat(),
        "--azurite",
        azurite_url,
        "--extra-alerts",
        str(extra_alerts),
        "--page-size",
        str(page_size),
        "--faults",
        json.dumps(list(faults)),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True, preexec_fn=azurite.ends_with_parent
    )
    line = process.stdout.readline()
    if not line:
        stop_process(process)
        raise RuntimeError("the ARM simulator did not start (see its stderr above)")
    info = json.loads(line)
    scenario = scenario_module.build(seed, size, now, extra_alerts)
    return ArmSimulator(process, info["url"], info["ca"], scenario)


def start_azurite(scenario):
    """Azurite with one account per simulated storage account (the storage-logs engineer's launcher)."""
    from ascmon.simulator import azurite

    return azurite.start(scenario.account_keys())


@dataclass
class Peers:
    """What the demo and `simulate` run: processes to stop, settings for the product, the demo tenant."""

    arm: ArmSimulator
    azurite: object
    processes: list = field(default_factory=list)

    def environment(self):
        return {
            **self.arm.environment(),
            "ASCMON_AZURITE_URL": self.azurite_url,
            "ASCMON_STORAGE_HOST_SUFFIXES": ",".join(azurite_host_suffixes()),
        }

    @property
    def azurite_url(self):
        return f"http://127.0.0.1:{self.azurite.port}"

    def demo_tenant(self):
        return demo_tenant(self.arm.scenario)

    def fleet_tenants(self):
        return fleet_tenants(self.arm.scenario)

    def stop(self):
        for process in reversed(self.processes):
            stop_process(process)
        self.azurite.stop()  # also removes its temporary folder


def point_settings_at(peers):
    """The caller's own process (the demo onboards its tenant in-process) reads settings already loaded:
    point them at the peers (Peers or ArmSimulator) too; child processes get `peers.environment()`."""
    from django.conf import settings

    if settings.configured:
        for name, value in peers.environment().items():
            if name.startswith("AZURE_"):
                setattr(settings, name, value)
    allow_azurite_hosts()


def allow_azurite_hosts():
    """This process, and the children it starts (the feeder, the demo's workers), may send blob requests
    to Azurite's 127.0.0.1, which product settings refuse (ascmon/azure/endpoints.py)."""
    from django.conf import settings

    suffixes = azurite_host_suffixes()
    os.environ["ASCMON_STORAGE_HOST_SUFFIXES"] = ",".join(suffixes)
    if settings.configured:
        settings.STORAGE_HOST_SUFFIXES = suffixes


def azurite_host_suffixes():
    """Azure's blob host suffixes plus Azurite's loopback address, which the simulator reports."""
    from django.conf import settings

    suffixes = list(settings.STORAGE_HOST_SUFFIXES) if settings.configured else []
    return [*suffixes, "127.0.0.1"] if "127.0.0.1" not in suffixes else suffixes


def demo_tenant(scenario):
    return tenant_details(scenario.demo_tenant(), f"{scenario.demo_tenant().name} (demo)")


def fleet_tenants(scenario):
    """Every tenant the demo onboards: the demo tenant first, then the fleet around it."""
    return [demo_tenant(scenario), *(tenant_details(t, t.name) for t in scenario.tenants[1:])]


def tenant_details(tenant, name):
    return {
        "name": name,
        "tenant_id": tenant.tenant_id,
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
        "expected_subscriptions": tenant.expected_subscriptions(),
        "contacts": list(tenant.contacts),
    }


def start_demo_peers(size="default", stdout=None, seed=1, feed=True):
    """Azurite loaded with the scenario's logging settings and history, the simulator, and a feeder that
    keeps delivering new hour blobs while the demo runs."""
    from ascmon.simulator import feeder, loader

    now = datetime.now(UTC).replace(microsecond=0)
    scenario = scenario_module.build(seed, size, now)
    write = stdout.write if stdout is not None else (lambda text: None)
    allow_azurite_hosts()  # the loader and the feeder write to Azurite through the product's blob wrapper
    azurite = start_azurite(scenario)
    # The demo stops the processes itself; the storage folder goes when this process exits.
    atexit.register(shutil.rmtree, azurite.location, True)
    processes = [azurite.process]
    try:
        arm = start_arm_simulator(size, seed, f"http://127.0.0.1:{azurite.port}", now)
        processes.append(arm.process)
        peers = Peers(arm, azurite, processes)
        write(f"Azurite on {peers.azurite_url}; loading {len(scenario.all_accounts())} storage accounts…\n")
        # The newest day now; the feeder fills in the older days and the hours up to now while we run.
        days = 1 if feed else loader.HISTORY_DAYS[size]
        blobs = loader.load(peers.azurite_url, scenario, days=days, until=feeder.history_end(now))
        write(f"loaded {blobs} log blobs; ARM simulator on {arm.url} (CA {arm.ca})\n")
        if feed:
            backfill = loader.HISTORY_DAYS[size] - days
            processes.append(feeder.start(peers.azurite_url, size, seed, now, backfill))
        point_settings_at(peers)
        return peers
    except BaseException:
        for process in reversed(processes):
            stop_process(process)
        raise
