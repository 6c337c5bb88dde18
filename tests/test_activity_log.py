"""What else, outside storage: the Azure Activity Log read through ARM (the real azure-mgmt-monitor SDK
against the simulator), shown beside an alert's storage activity."""

from datetime import timedelta

import pytest
from django.urls import reverse

from alerts import tasks
from alerts.models import Alert
from ascmon.azure import activity
from ascmon.azure.errors import Forbidden
from tests import factories

pytestmark = pytest.mark.peers


@pytest.fixture
def device(db, simulated_azure, settings):
    """The demo tenant as a device, its alerts polled, and its first storage account in the inventory."""
    settings.ALERTS_POLL_MAX_WAIT_SECONDS = 0
    tenant = simulated_azure.scenario.demo_tenant()
    made = factories.device(
        "demo",
        tenant_id=tenant.tenant_id,
        client_id=tenant.client_id,
        secret=tenant.client_secret,
        subscriptions={sub.subscription_id: sub.granted for sub in tenant.subscriptions},
    )
    spec = simulated_azure.scenario.accounts[tenant.subscriptions[0].subscription_id][0]
    factories.storage_account(
        spec.name,
        device_name="demo",
        subscription_id=spec.subscription_id,
        resource_group=spec.resource_group,
    )
    tasks.poll_device(made.pk)
    return made


def family(peers, name):
    return peers.scenario.family_episodes[name]


def test_the_sdk_reads_a_callers_events_and_an_accounts_control_plane_actions(simulated_azure):
    scenario, tenant = simulated_azure.scenario, simulated_azure.tenant()
    sub = scenario.tenants[0].subscriptions[0].subscription_id
    spec = scenario.accounts[sub][0]
    deletion = family(simulated_azure, "deletion")
    start, end = deletion.start - timedelta(hours=1), deletion.end
    mallory = activity.list_events(tenant, sub, start, end, caller="mallory@contoso.example")
    operations = [e["operation"] for e in mallory]
    assert "Microsoft.Storage/storageAccounts/listKeys/action" in operations
    assert "Microsoft.Insights/diagnosticSettings/delete" in operations
    assert all(e["caller"] == "mallory@contoso.example" and start <= e["time"] <= end for e in mallory)
    assert [e["time"] for e in mallory] == sorted((e["time"] for e in mallory), reverse=True)
    on_account = activity.list_events(
        tenant, sub, start - timedelta(hours=12), end, resource_id=spec.resource_id
    )
    callers = {e["caller"] for e in on_account}
    assert {"mallory@contoso.example", scenario.tenants[0].client_id} <= callers
    assert all(e["resource_id"].lower().startswith(spec.resource_id.lower()) for e in on_account)


def test_an_app_without_reader_is_told_forbidden(simulated_azure):
    scenario, tenant = simulated_azure.scenario, simulated_azure.tenant()
    sub = scenario.tenants[0].subscriptions[0].subscription_id
    simulated_azure.arm.deny_activity_log(tenant.tenant_id)
    with pytest.raises(Forbidden):
        activity.list_events(tenant, sub, scenario.now - timedelta(hours=1), scenario.now)


def activity_html(client, alert):
    response = client.get(reverse("alerts:activity", args=[alert.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def test_the_alert_page_loads_the_timeline_of_the_principal_and_the_account(analyst_client, device):
    alert = Alert.objects.get(
        device=device, alert_type="Storage.Blob_TorAnomaly", search_text__contains="alice"
    )
    page = analyst_client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert f'hx-get="{reverse("alerts:activity", args=[alert.pk])}"' in page
    html = activity_html(analyst_client, alert)
    assert "by alice@contoso.example" in html and "on storage account conto0invoices" in html
    assert "Microsoft.Resources/deployments/write" in html  # outside storage, what else the user did
    assert "account keys listed" in html and "Failed" in html
    assert "in the alert window" in html
    # Hostile text in an event stays text
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;activity&quot;)&lt;/script&gt;" in html


def test_the_timeline_is_cached_for_a_few_minutes(analyst_client, device, simulated_azure):
    alert = Alert.objects.get(device=device, alert_type="Storage.Blob_DeletionAnomaly")
    path = f"/subscriptions/{alert.subscription_id}/providers/Microsoft.Insights/eventtypes/management/values"
    first = activity_html(analyst_client, alert)
    asked = simulated_azure.arm.state()["requests"].get(path, 0)
    assert asked >= 1 and activity_html(analyst_client, alert) == first
    assert simulated_azure.arm.state()["requests"].get(path, 0) == asked
    assert "account SAS made" in first or "account keys listed" in first


def test_without_read_access_the_timeline_says_how_to_fix_it(analyst_client, device, simulated_azure):
    simulated_azure.arm.deny_activity_log(device.tenant_id)
    alert = Alert.objects.get(device=device, alert_type="Storage.Blob_OpenACL")
    html = activity_html(analyst_client, alert)
    assert "may not read the Activity Log of subscription" in html and "Reader role" in html
    assert 'id="activity-events"' not in html


def test_an_azure_outage_is_shown_with_a_retry(analyst_client, device, simulated_azure):
    simulated_azure.arm.add_faults({"kind": "503", "match": "eventtypes", "count": -1})
    alert = Alert.objects.get(device=device, alert_type="Storage.Blob_AccountSas.UnusualExternalAccess")
    html = activity_html(analyst_client, alert)
    assert "Azure did not answer the Activity Log query. Try again." in html
    assert "Try again</button>" in html


def test_no_read_access_to_the_activity_log_is_a_finding_until_reader_is_granted(
    simulated_azure, monkeypatch, cs_client
):
    from devices import tasks as device_tasks
    from devices.choices import FindingKind
    from devices.models import Subscription
    from devices.onboarding import onboard_demo_device

    monkeypatch.setattr(device_tasks, "FOLLOW_UPS", ())
    simulated_azure.arm.deny_activity_log(simulated_azure.scenario.demo_tenant().tenant_id)
    device = onboard_demo_device(simulated_azure.demo_tenant())
    findings = list(device.findings.open().filter(kind=FindingKind.ACTIVITY_LOG_FORBIDDEN))
    granted = set(
        Subscription.objects.filter(device=device, visible=True).values_list("subscription_id", flat=True)
    )
    assert {f.subject for f in findings} == granted
    assert set(
        Subscription.objects.filter(device=device, visible=True).values_list(
            "activity_log_readable", flat=True
        )
    ) == {False}
    page = cs_client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "No read access to the Activity Log of" in page
    assert f"az role assignment create --assignee {device.client_id} --role &quot;Reader&quot;" in page

    simulated_azure.arm.deny_activity_log(device.tenant_id, denied=False)
    device_tasks.run_inventory(device.id)
    for finding in findings:
        finding.refresh_from_db()
        assert finding.resolved_at is not None
    assert set(
        Subscription.objects.filter(device=device, visible=True).values_list(
            "activity_log_readable", flat=True
        )
    ) == {True}


def test_the_simulator_refuses_filters_azure_refuses():
    from ascmon.simulator.activity_log import parse_filter

    time = "eventTimestamp ge '2026-12-01T00:00:00Z' and eventTimestamp le '2026-12-02T00:00:00Z'"
    assert parse_filter(f"{time} and caller eq 'alice@contoso.example'")
    assert parse_filter("caller eq 'alice@contoso.example'") is None  # no time range
    assert parse_filter(f"{time} and resourceUri eq '/x' and resourceGroupName eq 'rg'") is None
