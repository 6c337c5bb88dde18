"""The simulated fleet: every tenant of the default scenario, onboarded through the form and inventoried
through the real SDKs against the ARM simulator and Azurite, shows the one state it was built for."""

import pytest

from ascmon.azure import credentials
from ascmon.simulator import launcher, loader
from ascmon.simulator import scenario as scenario_module
from devices import tasks
from devices.choices import FindingKind
from devices.onboarding import onboard_demo_device

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def fleet_peers():
    scenario = scenario_module.build(1, "default")
    azurite = launcher.start_azurite(scenario)
    processes = [azurite.process]
    try:
        arm = launcher.start_arm_simulator("default", 1, f"http://127.0.0.1:{azurite.port}", scenario.now)
        processes.append(arm.process)
        peers = launcher.Peers(arm, azurite, processes)
        for spec in scenario.all_accounts():
            loader.apply_logging(peers.azurite_url, spec)
        yield peers
    finally:
        for process in reversed(processes):
            launcher.stop_process(process)
        azurite.stop()


@pytest.fixture
def fleet(fleet_peers, settings, monkeypatch, db):
    settings.AZURE_MANAGEMENT_URL = settings.AZURE_AUTHORITY_HOST = fleet_peers.arm.url
    settings.AZURE_CA_BUNDLE = fleet_peers.arm.ca
    settings.AZURE_RETRY_TOTAL = 1
    launcher.allow_azurite_hosts()
    monkeypatch.setattr(tasks, "FOLLOW_UPS", ())  # alerts and logs have their own tests
    devices = {tenant["name"]: onboard_demo_device(tenant) for tenant in fleet_peers.fleet_tenants()}
    # The workers are other processes: none holds the token the onboarding check got.
    credentials._credential.cache_clear()
    for device in devices.values():
        tasks.run_inventory(device.pk)
    return devices


def kinds(device):
    return set(device.findings.open().values_list("kind", flat=True))


def test_the_fleet_has_seven_tenants_each_in_its_own_state(fleet):
    assert len(fleet) == 7
    assert kinds(fleet["Northwind"]) == set()
    assert kinds(fleet["Fabrikam"]) >= {FindingKind.SUBSCRIPTION_MISSING}
    assert kinds(fleet["Tailspin"]) == {FindingKind.PLAN_OFF}
    assert fleet["Tailspin"].findings.open().count() >= 10  # many plans, two subscriptions: one card
    assert kinds(fleet["Wingtip"]) == {FindingKind.READ_LOGGING_OFF, FindingKind.RETENTION_TOO_SHORT}
    assert kinds(fleet["Litware"]) == {FindingKind.CREDENTIALS_REJECTED}
    assert kinds(fleet["Adventure Works"]) == set()
    assert fleet["Adventure Works"].storage_accounts.count() == 6
    assert len(kinds(fleet["Contoso (demo)"])) >= 4


def test_the_busy_estate_has_its_own_exfiltration_alert_and_log_episode(fleet_peers):
    scenario = fleet_peers.arm.scenario
    busy = next(t for t in scenario.tenants if t.state == "busy_storage")
    sub = busy.subscriptions[0].subscription_id
    exfil = [
        a
        for a in scenario.alerts[sub]
        if a["properties"]["alertType"] == "Storage.Blob_DataExfiltration.AmountOfDataAnomaly"
    ]
    episode = scenario.episodes[scenario.accounts[sub][0].name]
    reported = [a for a in exfil if a["properties"]["extendedProperties"]["client IP address"] == episode.ip]
    assert [a["properties"]["compromisedEntity"] for a in reported] == [episode.account_name]
