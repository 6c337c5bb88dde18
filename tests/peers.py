"""pytest fixtures for the real protocol peers: the ARM simulator (HTTPS) and Azurite.

Both start once per test session on free ports (small scenario, seed 1) and stop at its end.

- `peers` (session): `.arm` (ascmon.simulator.launcher.ArmSimulator: `.scenario`, `.add_faults()`,
  `.fix()`, `.advance()`, `.state()`, `.reset()`), `.azurite` (`.port`, `.endpoint(name)`),
  `.load_logs(days=1)` to upload log history on demand. Logging settings are applied at start.
- `arm_simulator` (session): `peers.arm`.
- `simulated_azure` (per test): points the product's settings at the peers (AZURE_MANAGEMENT_URL,
  AZURE_AUTHORITY_HOST, AZURE_CA_BUNDLE, AZURE_RETRY_TOTAL=1) and gives the `peers` handle with
  `.tenant()` (an ascmon.azure.credentials.Tenant of the demo tenant) and `.demo_tenant()` (the dict the
  onboarding form takes). Faults, fixes, the clock and alert status are reset after each test.
"""

import pytest

from ascmon.simulator import launcher, loader


class SessionPeers(launcher.Peers):
    """The session's peers plus test helpers."""

    logs_loaded = False

    def load_logs(self, days=1):
        if not self.logs_loaded:
            loader.load(self.azurite_url, self.arm.scenario, days=days)
            self.logs_loaded = True

    def tenant(self, index=0):
        from ascmon.azure.credentials import Tenant

        tenant = self.arm.scenario.tenants[index]
        return Tenant(tenant.tenant_id, tenant.client_id, tenant.client_secret)

    @property
    def scenario(self):
        return self.arm.scenario


@pytest.fixture(scope="session")
def peers():
    from ascmon.simulator import scenario as scenario_module

    scenario = scenario_module.build(1, "small")
    azurite = launcher.start_azurite(scenario)
    processes = [azurite.process]
    try:
        arm = launcher.start_arm_simulator("small", 1, f"http://127.0.0.1:{azurite.port}", scenario.now)
        processes.append(arm.process)
        session = SessionPeers(arm, azurite, processes)
        for spec in scenario.all_accounts():
            loader.apply_logging(session.azurite_url, spec)
        yield session
    finally:
        for process in reversed(processes):
            launcher.stop_process(process)
        azurite.stop()


@pytest.fixture(scope="session")
def arm_simulator(peers):
    return peers.arm


@pytest.fixture
def simulated_azure(peers, settings):
    settings.AZURE_MANAGEMENT_URL = peers.arm.url
    settings.AZURE_AUTHORITY_HOST = peers.arm.url
    settings.AZURE_CA_BUNDLE = peers.arm.ca
    settings.AZURE_RETRY_TOTAL = 1
    yield peers
    peers.arm.reset()
    for spec in peers.scenario.all_accounts():  # undo a test's fix() on the data plane too
        loader.apply_logging(peers.azurite_url, spec)
