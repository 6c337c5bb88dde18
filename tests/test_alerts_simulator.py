"""Alerts against the ARM simulator over HTTPS, through the real SDK: the path production takes."""

import pytest

from alerts import tasks
from alerts.models import Alert, PollRun, RejectedAlert
from tests import factories

pytestmark = pytest.mark.peers


@pytest.fixture
def device(db, simulated_azure, settings):
    settings.ALERTS_POLL_MAX_WAIT_SECONDS = 0
    tenant = simulated_azure.scenario.demo_tenant()
    return factories.device(
        "demo",
        tenant_id=tenant.tenant_id,
        client_id=tenant.client_id,
        secret=tenant.client_secret,
        subscriptions={sub.subscription_id: sub.granted for sub in tenant.subscriptions},
    )


def served(peers, device):
    """Well-formed alerts the simulator serves for the device's visible subscriptions."""
    subs = device.subscriptions.filter(visible=True).values_list("subscription_id", flat=True)
    alerts = [a for sub in subs for a in peers.scenario.alerts.get(sub, [])]
    return [a for a in alerts if isinstance(a["properties"]["alertType"], str)]


def runs(ids):
    return list(PollRun.objects.filter(pk__in=ids))


def test_a_poll_stores_every_alert_and_reports_the_malformed_one(simulated_azure, device):
    ids = tasks.poll_device(device.pk)
    assert {run.outcome for run in runs(ids)} == {"ok"}
    assert Alert.objects.count() == len(served(simulated_azure, device))
    assert sum(run.rejected for run in runs(ids)) == 1 and RejectedAlert.objects.count() == 1


def test_polling_again_changes_nothing(simulated_azure, device):
    tasks.poll_device(device.pk)
    again = runs(tasks.poll_device(device.pk))
    assert sum(run.created for run in again) == 0 and sum(run.updated for run in again) == 0
    assert sum(run.unchanged for run in again) == len(served(simulated_azure, device))


def test_the_cross_product_incident_collapses_into_one_visible_alert(simulated_azure, device):
    tasks.poll_device(device.pk)
    incident = Alert.objects.filter(dedup_family="impossible-travel", search_text__contains="102.89.34.11")
    primaries = incident.filter(duplicate_of__isnull=True)
    assert incident.count() >= 3 and incident.count() == primaries.count() + sum(
        p.duplicate_count for p in primaries
    )
    products = {
        "Azure Security Center",
        "Microsoft Cloud App Security",
        "Azure Active Directory Identity Protection",
    }
    for primary in primaries:
        assert primary.suppressed_by is None
        assert {primary.product_name, *primary.duplicates.values_list("product_name", flat=True)} == products


def test_preview_alerts_are_suppressed_and_unknown_types_flagged(simulated_azure, device):
    tasks.poll_device(device.pk)
    previews = Alert.objects.filter(is_preview=True)
    assert previews.exists() and not previews.filter(suppressed_by__isnull=True).exists()
    new = set(Alert.objects.filter(is_new_type=True).values_list("alert_type", flat=True))
    assert new == {"CosmosDB_SqlInjection.Success", "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"}


def test_the_exfiltration_alert_carries_typed_storage_properties(simulated_azure, device):
    tasks.poll_device(device.pk)
    episode = simulated_azure.scenario.episode
    alert = Alert.objects.get(
        alert_type="Storage.Blob_DataExfiltration.AmountOfDataAnomaly", search_text__contains=episode.ip
    )
    typed = alert.details.typed_properties
    assert typed["client_ip"] == episode.ip and typed["container"] == episode.container
    assert typed["extracted_bytes"] > 0 and typed["extracted_blobs"] == episode.blobs


def test_status_changes_in_azure_appear_in_the_timeline(simulated_azure, device, analyst_client):
    tasks.poll_device(device.pk)
    simulated_azure.arm.advance(200)
    later = runs(tasks.poll_device(device.pk))
    assert sum(run.updated for run in later) >= 3
    changed = Alert.objects.filter(changes__field="status").distinct()
    assert changed.count() >= 3
    html = analyst_client.get(f"/alerts/{changed.first().pk}/").content.decode()
    assert "status: Active →" in html


@pytest.fixture
def fault_after_first_page(simulated_azure, monkeypatch):
    """Inject a fault once the first page of alerts has arrived: the failure lands mid-paging."""
    from ascmon.azure import security

    real = security.iter_alert_pages

    def install(fault):
        def paging(tenant, subscription_id, continuation=None):
            for page in real(tenant, subscription_id, continuation):
                yield page
                if fault and continuation is None:
                    simulated_azure.arm.add_faults(dict(fault))
                    fault.clear()

        monkeypatch.setattr(security, "iter_alert_pages", paging)

    simulated_azure.arm.set_page_size(5)
    return install


def test_a_429_storm_mid_paging_loses_nothing(simulated_azure, device, fault_after_first_page):
    fault_after_first_page(
        {"kind": "429", "match": "Microsoft.Security/alerts", "count": 6, "retry_after": 0}
    )
    ids = tasks.poll_device(device.pk)
    assert Alert.objects.count() == len(served(simulated_azure, device))
    assert {run.outcome for run in runs(ids)} == {"ok"} and sum(run.throttled for run in runs(ids)) >= 2


def test_a_500_mid_paging_loses_nothing(simulated_azure, device, fault_after_first_page):
    fault_after_first_page({"kind": "500", "match": "Microsoft.Security/alerts", "count": 2})
    ids = tasks.poll_device(device.pk)
    assert Alert.objects.count() == len(served(simulated_azure, device))
    assert {run.outcome for run in runs(ids)} == {"ok"} and sum(run.throttled for run in runs(ids)) >= 1


def test_triage_written_back_to_azure_is_reconciled_on_the_next_poll(simulated_azure, device, analyst_client):
    from alerts.models import DeviceAlertSettings

    DeviceAlertSettings.objects.create(device=device, write_back_status=True)
    tasks.poll_device(device.pk)
    alert = Alert.objects.visible().filter(status="Active", alert_type="VM_EICAR").first()
    analyst_client.post(f"/alerts/{alert.pk}/triage/", {"triage_status": "dismissed"})
    alert.refresh_from_db()
    assert alert.requested_azure_status == "Dismissed"
    tasks.poll_device(device.pk)
    alert.refresh_from_db()
    assert alert.status == "Dismissed" and alert.requested_azure_status == ""
