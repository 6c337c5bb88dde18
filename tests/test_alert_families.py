"""Every Defender for Storage alert family shows its evidence: the simulator's family episodes go into
Azurite as classic log lines, ingestion stores them, and each family's alert page answers its question."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from ascmon.azure import blobs
from ascmon.simulator import family_episodes as fe
from ascmon.simulator.storage_activity import load_account
from storage_logs.families import family_for
from storage_logs.tasks import ingest_account_hour
from tests import factories

pytestmark = [pytest.mark.peers, pytest.mark.usefixtures("azurite_keys")]
NOW = datetime(2026, 6, 11, 12, tzinfo=UTC)
SEED = 5


def ingest_episodes(account, spec, azurite, now, seed, hours=32):
    """Upload `hours` of the account's logs up to `now`, with every family episode, and ingest each hour.
    Returns {family: episode}."""
    episodes = fe.family_episodes(account.name, now, seed)
    start = now - timedelta(hours=hours)
    access = blobs.BlobAccess(account.blob_endpoint, account.name, azurite.accounts[account.name])
    load_account(access, spec, start, now, seed, list(episodes.values()))
    hour = start
    while hour < now:
        ingest_account_hour(account.id, hour.isoformat())
        hour += timedelta(hours=1)
    return episodes


@pytest.fixture
def ingested(azurite, db):
    """(account, {family: episode}): 32 hours of the account's logs with every family episode, ingested."""
    account, spec = factories.storage_account("ascmonlogs1", blob_endpoint=azurite.endpoint("ascmonlogs1"))
    return account, ingest_episodes(account, spec, azurite, NOW, SEED)


def page(client, alert):
    return client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()


def table(content, table_id):
    """The rows of one evidence table as lists of cell texts (tags dropped, as a reader sees them)."""
    import re

    body = content[content.index(f'<table id="{table_id}"') :]
    body = body[: body.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


def rows_with(rows, *texts):
    return [r for r in rows if all(any(text in cell for cell in r) for text in texts)]


def test_every_family_of_the_reference_has_a_panel():
    for alert_type, family in (
        ("Storage.Blob_AM.MalwareFound", "malware"),
        ("Storage.Blob_MalwareHashReputation", "malware"),
        ("Storage.Blob_AccountSas.InternalSasUsedExternally", "sas"),
        ("Storage.Blob_AnonymousAccessAnomaly.Sensitive", "public"),
        ("Storage.Blob_OpenACL", "public"),
        ("Storage.Blob_OpenContainersScanning.FailedAttempt", "public"),
        ("SIMULATED_Storage.Blob_DeletionAnomaly", "deletion"),
        ("Storage.Files_TorAnomaly", "unusual_place"),
        ("Storage.Blob_GeoAnomaly", "unusual_place"),
        ("Storage.Blob_SuspiciousIp", "unusual_place"),
        ("Storage.Blob_SuspiciousApp", "application"),
    ):
        assert family_for(alert_type).name == family, alert_type
    assert family_for("VM_EICAR") is None


@pytest.mark.django_db
def test_a_malware_alert_shows_who_uploaded_the_blob_from_where_and_who_read_it_since(
    analyst_client, ingested
):
    account, episodes = ingested
    episode = episodes["malware"]
    for alert_type in ("Storage.Blob_AM.MalwareFound", "Storage.Blob_MalwareHashReputation"):
        html = page(analyst_client, factories.family_alert(account, episode, alert_type))
        assert "Evidence: Malware upload on ascmonlogs1" in html
        uploads = table(html, "evidence-uploads")
        assert rows_with(uploads, "PutBlob", "svc-deploy@contoso.example", "89.248.165.12")
        readers = table(html, "evidence-readers")
        for reader in ("192.0.2.77", "198.18.0.5"):
            assert rows_with(readers, "anonymous", reader, "names the blob"), reader
        assert "setup-update.exe was uploaded to public by svc-deploy@contoso.example" in html
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.django_db
def test_a_sas_alert_shows_the_tokens_requests_by_ip_with_the_new_outside_ip(analyst_client, ingested):
    account, episodes = ingested
    episode = episodes["sas"]
    html = page(
        analyst_client,
        factories.family_alert(account, episode, "Storage.Blob_AccountSas.InternalSasUsedExternally"),
    )
    assert "Evidence: SAS token use" in html
    rows = table(html, "evidence-sas-ips")
    outside = rows_with(rows, "102.89.34.11")
    assert outside and "the alert's IP" in outside[0][0] and "new" in outside[0][0]
    assert "GetBlob 24" in outside[0][2] and "ListBlobs 1" in outside[0][2]
    internal = rows_with(rows, "10.20.1.9")
    assert internal and "new" not in internal[0][0] and internal[0][3] == "2"
    assert "first seen in the window: 102.89.34.11" in html


@pytest.mark.django_db
def test_public_access_alerts_show_the_access_change_and_the_anonymous_requests(analyst_client, ingested):
    account, episodes = ingested
    episode = episodes["public"]
    for alert_type in ("Storage.Blob_OpenACL", "Storage.Blob_AnonymousAccessAnomaly"):
        html = page(analyst_client, factories.family_alert(account, episode, alert_type))
        assert "Evidence: Public access" in html
        changes = table(html, "evidence-access-changes")
        assert rows_with(changes, "SetContainerACL", "backups", "bob.ops@contoso.example", "203.0.113.40")
        anonymous = rows_with(table(html, "evidence-anonymous"), fe.PUBLIC_READER_IP, "backups")
        assert anonymous and anonymous[0][3] == "2xx" and anonymous[0][4] == "18"


@pytest.mark.django_db
def test_a_container_scan_shows_the_failed_guesses_and_the_container_found(analyst_client, ingested):
    account, episodes = ingested
    alert = factories.family_alert(
        account, episodes["scanning"], "Storage.Blob_OpenContainersScanning.SuccessfulDiscovery"
    )
    rows = rows_with(table(page(analyst_client, alert), "evidence-anonymous"), fe.SCANNER_IP)
    failed = [r for r in rows if r[3] == "4xx"]
    assert sum(int(r[4]) for r in failed) == 10 and all("failed" in r[0] for r in failed)
    assert [r[1] for r in rows if r[3] == "2xx"] == ["public"]


@pytest.mark.django_db
def test_a_deletion_alert_shows_who_deleted_what_and_the_usual_rate(analyst_client, ingested):
    account, episodes = ingested
    html = page(
        analyst_client, factories.family_alert(account, episodes["deletion"], "Storage.Blob_DeletionAnomaly")
    )
    deleters = rows_with(table(html, "evidence-deleters"), "193.32.162.71")
    assert deleters and "shared key of account ascmonlogs1" in deleters[0][0]
    assert deleters[0][4] == "60" and deleters[0][5] == "60"
    assert rows_with(table(html, "evidence-deleted"), "invoices", "inv-00000.pdf")
    assert "a day on ascmonlogs1" in html


@pytest.mark.django_db
def test_tor_geo_and_suspicious_ip_alerts_show_what_the_ip_did(analyst_client, ingested):
    account, episodes = ingested
    for alert_type in ("Storage.Blob_TorAnomaly", "Storage.Blob_GeoAnomaly", "Storage.Blob_SuspiciousIp"):
        html = page(analyst_client, factories.family_alert(account, episodes["unusual_place"], alert_type))
        rows = table(html, "evidence-ip-requests")
        assert rows_with(rows, "alice@contoso.example", fe.TOR_IP, "GetBlob", "reports")
        assert "first seen on this account in the alert window" in html
        assert "No other account of the device saw this IP in the window." in html


@pytest.mark.django_db
def test_an_application_alert_shows_the_new_tool_and_the_principals_usual_agents(analyst_client, ingested):
    account, episodes = ingested
    html = page(
        analyst_client,
        factories.family_alert(account, episodes["application"], "Storage.Blob_ApplicationAnomaly"),
    )
    rows = rows_with(table(html, "evidence-app-requests"), fe.UA_RCLONE)
    assert rows and sum(int(r[6]) for r in rows) == 15
    assert "(new in the alert window)" in html
    usual = [r[0] for r in table(html, "evidence-app-usual")]
    assert any("Azure-Storage/9.3.3" in agent for agent in usual)


@pytest.mark.django_db
def test_without_write_logging_the_malware_panel_says_it_cannot_tell_who_uploaded(analyst_client, ingested):
    account, episodes = ingested
    account.logging_write = False
    account.save()
    html = page(
        analyst_client, factories.family_alert(account, episodes["malware"], "Storage.Blob_AM.MalwareFound")
    )
    assert "Write logging is off on storage account ascmonlogs1." in html


FAMILY_TYPES = (
    ("malware", "Storage.Blob_AM.MalwareFound"),
    ("sas", "Storage.Blob_AccountSas.UnusualExternalAccess"),
    ("public", "Storage.Blob_AnonymousAccessAnomaly"),
    ("deletion", "Storage.Blob_DeletionAnomaly"),
    ("unusual_place", "Storage.Blob_GeoAnomaly"),
    ("application", "Storage.Blob_ApplicationAnomaly"),
)


@pytest.mark.django_db
def test_each_family_page_makes_the_same_number_of_queries_for_two_or_four_days_of_logs(analyst_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.test_decision_support import NOW as THEN
    from tests.test_decision_support import SEED as SEED_THEN
    from tests.test_decision_support import ingest_generated_logs, make_device

    counts = {}
    for days, name in ((2, "Short"), (4, "Long")):
        device, account, spec = make_device(name)
        episodes = fe.family_episodes(spec.name, THEN, SEED_THEN)
        ingest_generated_logs(account, spec, list(episodes.values()), days=days)
        for family, alert_type in FAMILY_TYPES:
            alert = factories.family_alert(account, episodes[family], alert_type)
            with CaptureQueriesContext(connection) as queries:
                assert 'id="evidence-summary"' in page(analyst_client, alert)
            counts.setdefault(family, []).append(len(queries))
    assert all(short == long for short, long in counts.values()), counts
