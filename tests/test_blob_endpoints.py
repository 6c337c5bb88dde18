"""Blob endpoints come from ARM's answer about a customer's account: ascmon contacts them only under
Azure's storage host suffixes (ASCMON_STORAGE_HOST_SUFFIXES), and says so where a person looks."""

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from django.urls import reverse

from ascmon.azure import blobs
from ascmon.azure.endpoints import check_blob_endpoint
from ascmon.azure.errors import UntrustedEndpoint
from devices.choices import RunOutcome
from devices.tasks import run_inventory
from tests import factories

AZURE_ONLY = [suffix for suffix in django_settings.STORAGE_HOST_SUFFIXES if suffix != "127.0.0.1"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://contosologs.blob.core.windows.net/",
        "https://contosologs.blob.core.chinacloudapi.cn/",
        "https://contosologs.blob.core.usgovcloudapi.net",
        "https://contosologs.z13.blob.storage.azure.net/",
        "https://CONTOSOLOGS.BLOB.CORE.WINDOWS.NET:443/",
    ],
)
def test_azure_blob_hosts_are_used(endpoint, settings):
    settings.STORAGE_HOST_SUFFIXES = AZURE_ONLY
    check_blob_endpoint(endpoint, "contosologs")


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://attacker.example/",
        "https://contosologs.blob.core.windows.net.attacker.example/",
        "https://attacker.example/contosologs.blob.core.windows.net/",
        "https://contosologs.blob.core.windows.net@attacker.example/",
        "https://attacker.example#.blob.core.windows.net",
        "http://contosologs.blob.core.windows.net/",
        "https://contosologs.blob.core.windows.net:8443/",
        "https://evilblob.core.windows.net/",
        "ftp://contosologs.blob.core.windows.net/",
        "http://127.0.0.1:10000/contosologs",
        "",
        "https://[::1/",
    ],
)
def test_other_hosts_are_refused_with_a_reason(endpoint, settings):
    settings.STORAGE_HOST_SUFFIXES = AZURE_ONLY
    with pytest.raises(UntrustedEndpoint) as caught:
        check_blob_endpoint(endpoint, "contosologs")
    assert "is not an Azure storage host" in str(caught.value)
    assert "ASCMON_STORAGE_HOST_SUFFIXES" in str(caught.value)
    assert not caught.value.retryable


def test_a_refused_endpoint_is_never_contacted(settings):
    heard = []

    class Listener(BaseHTTPRequestHandler):
        def do_GET(self):
            heard.append(self.path)
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.STORAGE_HOST_SUFFIXES = AZURE_ONLY
        access = blobs.BlobAccess(f"http://127.0.0.1:{server.server_port}/contosologs", "contosologs", "a2V5")
        for call in (
            lambda: blobs.list_blobs(access, "$logs", "blob/"),
            lambda: list(blobs.read_blob(access, "$logs", "blob/x.log")),
            lambda: blobs.get_logging_properties(access),
        ):
            with pytest.raises(UntrustedEndpoint):
                call()
    finally:
        server.shutdown()
    assert heard == []


def demo_device(peers):
    tenant = peers.demo_tenant()
    return factories.device(
        tenant["name"],
        tenant_id=tenant["tenant_id"],
        client_id=tenant["client_id"],
        secret=tenant["client_secret"],
        expected_subscriptions=tenant["expected_subscriptions"],
    )


def azure_hosts_only():
    """The simulator reports Azurite's 127.0.0.1 endpoints: without it in the list, they are outside."""
    return override_settings(STORAGE_HOST_SUFFIXES=AZURE_ONLY)


@pytest.mark.peers
def test_inventory_shows_an_endpoint_outside_azure_as_a_run_error(simulated_azure, cs_client):
    device = demo_device(simulated_azure)
    with azure_hosts_only():
        assert run_inventory(device.id, follow_up=False) == RunOutcome.PARTIAL
    errors = device.inventory_runs.get().errors
    refused = [e for e in errors if e["error"] == "UntrustedEndpoint"]
    assert len(refused) == device.storage_accounts.count() > 0
    assert "is not an Azure storage host" in refused[0]["message"]
    assert "UntrustedEndpoint" in cs_client.get(reverse("devices:detail", args=[device.pk])).content.decode()


@pytest.mark.peers
def test_ingestion_refuses_an_endpoint_outside_azure_and_the_account_page_says_why(
    simulated_azure, analyst_client
):
    from storage_logs.tasks import ingest_account_hour

    device = demo_device(simulated_azure)
    run_inventory(device.id, follow_up=False)
    account = device.storage_accounts.filter(logging_read=True).first()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with azure_hosts_only():
        ingest_account_hour(account.id, hour.isoformat())
    page = analyst_client.get(reverse("storage_logs:account", args=[account.pk])).content.decode()
    assert "UntrustedEndpoint" in page
    assert "is not an Azure storage host" in page
