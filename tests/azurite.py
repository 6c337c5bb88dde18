"""pytest fixture `azurite`: one Azurite blob service per test session with ascmon's test accounts."""

import pytest

from ascmon.simulator import azurite as azurite_process

TEST_ACCOUNTS = {
    "ascmonlogs1": "YXNjbW9ubG9nczEta2V5LWZvci10ZXN0cy1vbmx5LTAwMDA=",
    "ascmonlogs2": "YXNjbW9ubG9nczIta2V5LWZvci10ZXN0cy1vbmx5LTAwMDA=",
}


@pytest.fixture(scope="session")
def azurite():
    """A running Azurite (see ascmon.simulator.azurite.Azurite): `.endpoint(name)`, `.accounts[name]`."""
    service = azurite_process.start(TEST_ACCOUNTS)
    yield service
    service.stop()


@pytest.fixture
def azurite_keys(azurite, monkeypatch):
    """Ingestion opens the test accounts with Azurite's keys (in production the key comes from ARM listKeys,
    which the ARM simulator serves; these tests talk to Azurite alone)."""
    from ascmon.azure import blobs

    def access(account):
        return blobs.BlobAccess(account.blob_endpoint, account.name, azurite.accounts[account.name])

    monkeypatch.setattr("storage_logs.tasks.account_access", access)
    return azurite
