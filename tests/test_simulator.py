"""The ARM simulator speaks Azure: its answers go through the real management SDKs without loss."""

import re
from datetime import datetime

import pytest

from ascmon.azure import blobs, monitor, resources, security, storage, subscriptions
from ascmon.simulator import alert_catalog
from ascmon.simulator import scenario as scenario_module

pytestmark = pytest.mark.peers

CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
AZURE_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$")


def snake(name):
    return CAMEL.sub("_", name).lower()


def snaked(value):
    """Keys snake_cased all the way down (as_dict() snake-cases typed sub-models, not open objects)."""
    if isinstance(value, dict):
        return {snake(k): snaked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snaked(v) for v in value]
    return value


def as_time(text):
    match = AZURE_TIME.match(text)
    return datetime.fromisoformat(f"{match[1]}.{(match[2] or '0')[:6].ljust(6, '0')}+00:00")


def raw_alerts(peers, subscription_id):
    return [a for page in security.iter_alert_pages(peers.tenant(), subscription_id) for a in page.alerts]


def production(peers):
    return peers.scenario.demo_tenant().subscriptions[0].subscription_id


def test_the_same_seed_gives_the_same_scenario():
    now = datetime.fromisoformat("2026-03-01T10:00:00+00:00")
    first, second = scenario_module.build(7, "small", now), scenario_module.build(7, "small", now)
    assert first.alerts == second.alerts
    assert first.pricings == second.pricings
    assert scenario_module.build(8, "small", now).alerts != first.alerts


def development(peers):
    return peers.scenario.demo_tenant().subscriptions[1].subscription_id


def test_alerts_deserialize_without_loss_through_azure_mgmt_security(simulated_azure):
    sub = development(simulated_azure)  # production holds the malformed alert, which fails SDK paging
    raw = {a["id"]: a for a in raw_alerts(simulated_azure, sub)}
    parsed = {a["id"]: a for a in security.list_alerts_via_sdk(simulated_azure.tenant(), sub)}
    assert len(parsed) == len(raw) > 20
    for alert_id, alert in raw.items():
        model = parsed[alert_id]
        for key, value in alert["properties"].items():
            got = model[snake(key)]
            if key.endswith("Utc"):
                assert as_time(got) == as_time(value), key
            else:
                assert snaked(got) == snaked(value), key


def test_the_sdk_alone_would_lose_the_whole_page_of_a_malformed_alert(simulated_azure):
    with pytest.raises(Exception, match="deserialize"):
        security.list_alerts_via_sdk(simulated_azure.tenant(), production(simulated_azure))


def test_the_sdk_follows_next_links_on_the_simulators_own_host(simulated_azure):
    simulated_azure.arm.set_page_size(4)
    sub = development(simulated_azure)
    pages = list(security.iter_alert_pages(simulated_azure.tenant(), sub))
    assert len(pages) > 3
    assert all(p.next_link.startswith(simulated_azure.arm.url) for p in pages[:-1])
    sdk = security.list_alerts_via_sdk(simulated_azure.tenant(), sub)
    assert len(sdk) == sum(len(p.alerts) + len(p.rejected) for p in pages)


def test_pricings_come_in_the_2024_01_01_shape_with_a_deprecated_plan(simulated_azure):
    plans = {
        p["name"]: p for p in security.list_pricings(simulated_azure.tenant(), production(simulated_azure))
    }
    assert plans["VirtualMachines"]["pricing_tier"] == "Standard"
    assert plans["VirtualMachines"]["sub_plan"] == "P2"
    assert plans["AppServices"]["pricing_tier"] == "Free"
    assert plans["Dns"]["deprecated"] and plans["Dns"]["replaced_by"] == ["VirtualMachines"]
    assert {"name": "OnUploadMalwareScanning", "is_enabled": True} in plans["StorageAccounts"]["extensions"]
    assert plans["StorageAccounts"]["enablement_time"].startswith("2024-03-11T09:12:40")


def test_subscriptions_without_a_role_are_absent_and_the_disabled_one_is_listed(simulated_azure):
    tenant = simulated_azure.scenario.demo_tenant()
    listed = {s["subscription_id"]: s for s in subscriptions.list_subscriptions(simulated_azure.tenant())}
    expected = {s.subscription_id: s for s in tenant.subscriptions}
    assert set(listed) == {sid for sid, s in expected.items() if s.granted}
    assert {s["state"] for s in listed.values()} == {"Enabled", "Disabled"}
    assert all(s["tenant_id"] == tenant.tenant_id for s in listed.values())


def test_resource_counts_include_the_storage_accounts(simulated_azure):
    sub = production(simulated_azure)
    counts = resources.count_resources(simulated_azure.tenant(), sub)
    assert counts["Microsoft.Storage/storageAccounts"] == len(simulated_azure.scenario.accounts[sub])
    assert counts["Microsoft.Compute/virtualMachines"] >= 1


def test_storage_accounts_point_at_azurite_and_their_key_opens_it(simulated_azure):
    tenant, sub = simulated_azure.tenant(), production(simulated_azure)
    specs = {s.name: s for s in simulated_azure.scenario.accounts[sub]}
    for account in storage.list_storage_accounts(tenant, sub):
        assert account["blob_endpoint"] == f"{simulated_azure.azurite_url}/{account['name']}/"
        key = storage.get_account_key(tenant, account["id"])
        logging = blobs.get_logging_properties(
            blobs.BlobAccess(account["blob_endpoint"], account["name"], key)
        )
        spec = specs[account["name"]]
        assert logging["read"] == spec.read
        if spec.logging_version:
            assert (logging["version"], logging["retention_days"]) == (
                spec.logging_version,
                spec.retention_days,
            )


def test_diagnostic_settings_are_on_for_some_accounts_only(simulated_azure):
    tenant, sub = simulated_azure.tenant(), production(simulated_azure)
    found = {
        spec.name: monitor.list_diagnostic_settings(tenant, f"{spec.resource_id}/blobServices/default")
        for spec in simulated_azure.scenario.accounts[sub]
    }
    on = {name for name, settings in found.items() if settings}
    assert on == {s.name for s in simulated_azure.scenario.accounts[sub] if s.diagnostic_logs}
    setting = found[next(iter(on))][0]
    assert {log["category"] for log in setting["logs"] if log["enabled"]} == {
        "StorageRead",
        "StorageWrite",
        "StorageDelete",
    }
    assert setting["storage_account_id"].endswith(next(iter(on)))


def test_fixing_a_tenant_grants_its_subscriptions_enables_plans_and_turns_logging_on(simulated_azure):
    tenant = simulated_azure.scenario.demo_tenant()
    simulated_azure.arm.fix(tenant.tenant_id)
    listed = subscriptions.list_subscriptions(simulated_azure.tenant())
    assert {s["subscription_id"] for s in listed} == set(tenant.expected_subscriptions())
    assert {s["state"] for s in listed} == {"Enabled"}
    for sub in tenant.subscriptions:
        plans = security.list_pricings(simulated_azure.tenant(), sub.subscription_id)
        assert all(p["pricing_tier"] == "Standard" for p in plans if not p["deprecated"])
    spec = next(s for s in simulated_azure.scenario.all_accounts() if not s.logging_version)
    key = scenario_module.account_key(spec.name)
    access = blobs.BlobAccess(f"{simulated_azure.azurite_url}/{spec.name}", spec.name, key)
    assert blobs.get_logging_properties(access)["read"] is True


def test_scheduled_status_changes_show_in_later_lists(simulated_azure):
    sub = production(simulated_azure)
    _, alert_id, status = max(simulated_azure.scenario.status_changes)
    before = {a["id"]: a["properties"]["status"] for a in raw_alerts(simulated_azure, sub)}
    simulated_azure.arm.advance(3600)
    after = {a["id"]: a["properties"]["status"] for a in raw_alerts(simulated_azure, sub)}
    assert before[alert_id] == "Active"
    assert after[alert_id] == status


def test_the_exfiltration_alert_matches_the_storage_episode(simulated_azure):
    episode = simulated_azure.scenario.episode
    alert = next(
        a
        for a in raw_alerts(simulated_azure, production(simulated_azure))
        if a["properties"]["alertType"] == alert_catalog.EXFILTRATION_TYPE
        and a["properties"]["compromisedEntity"] == episode.account_name
    )
    props = alert["properties"]
    assert props["extendedProperties"]["client IP address"] == episode.ip
    assert props["extendedProperties"]["container"] == episode.container
    assert props["extendedProperties"]["extracted blobs"] == str(episode.blobs)
    assert as_time(props["startTimeUtc"]) == episode.start
    assert as_time(props["endTimeUtc"]) == episode.end
    assert {"address": episode.ip}.items() <= next(e for e in props["entities"] if e["type"] == "ip").items()


def test_the_scenario_has_preview_unknown_and_cross_product_alerts(simulated_azure):
    alerts = raw_alerts(simulated_azure, production(simulated_azure))
    names = {a["properties"]["alertDisplayName"] for a in alerts}
    assert any(n.startswith("PREVIEW - ") for n in names) and any(n.endswith("(Preview)") for n in names)
    products = {a["properties"]["productName"] for a in alerts}
    assert {"Azure Active Directory Identity Protection", "Microsoft Cloud App Security"} <= products
    types = {a["properties"]["alertType"] for a in alerts}
    assert {k.alert_type for k in alert_catalog.UNKNOWN_TO_ASCMON} <= types


def test_the_demo_peers_start_with_logs_and_stop_leaving_no_process_behind(settings, monkeypatch):
    from ascmon.simulator import launcher

    settings.AZURE_MANAGEMENT_URL = ""  # an override first, so what the launcher sets is undone after
    # As in production settings, Azurite's 127.0.0.1 is no blob host: the launcher allows it for the demo.
    settings.STORAGE_HOST_SUFFIXES = ["blob.core.windows.net"]
    monkeypatch.setenv("ASCMON_STORAGE_HOST_SUFFIXES", "blob.core.windows.net")
    peers = launcher.start_demo_peers(size="small", feed=True)
    try:
        assert all(process.poll() is None for process in peers.processes)
        assert set(peers.environment()) >= {"AZURE_MANAGEMENT_URL", "AZURE_AUTHORITY_HOST", "AZURE_CA_BUNDLE"}
        assert "127.0.0.1" in peers.environment()["ASCMON_STORAGE_HOST_SUFFIXES"].split(",")
        assert settings.AZURE_MANAGEMENT_URL == peers.arm.url  # the demo onboards in its own process
        tenant = peers.demo_tenant()
        assert len(tenant["expected_subscriptions"]) == 4 and tenant["client_secret"]
        subscriptions.verify_credentials(_tenant(tenant))
        spec = next(s for s in peers.arm.scenario.all_accounts() if s.logging_version)
        access = blobs.BlobAccess(
            f"{peers.azurite_url}/{spec.name}", spec.name, scenario_module.account_key(spec.name)
        )
        assert blobs.list_blobs(access, "$logs", "blob/")
    finally:
        peers.stop()
    assert all(process.poll() is not None for process in peers.processes)


def _tenant(details):
    from ascmon.azure.credentials import Tenant

    return Tenant(details["tenant_id"], details["client_id"], details["client_secret"])


def test_bigger_sizes_add_a_fleet_of_tenants_and_more_alerts():
    now = datetime.fromisoformat("2026-03-01T10:00:00+00:00")
    small, default = scenario_module.build(1, "small", now), scenario_module.build(1, "default", now)
    assert len(small.tenants) == 1 and len(default.tenants) == 7
    assert {t.state for t in default.tenants[1:]} == {
        "subscription_missing",
        "healthy",
        "plans_off",
        "logging_off",
        "credentials_expired",
        "busy_storage",
    }
    assert sum(map(len, default.alerts.values())) > 3 * sum(map(len, small.alerts.values()))
    assert default.appear_after and not small.appear_after  # the demo sees alerts arrive while it runs
