"""An analyst opens a Tor alert in Chromium: the family's evidence from the storage logs (Azurite), and
the Azure Activity Log timeline (the simulator, through the real SDK) loaded by htmx beside it."""

from pathlib import Path

import pytest

from tests import factories
from tests.browser.test_navigation import log_in
from tests.test_alert_families import ingest_episodes

pytestmark = [pytest.mark.browser, pytest.mark.peers, pytest.mark.django_db(transaction=True)]


def test_a_tor_alert_shows_its_evidence_and_the_principals_activity_log(
    page, live_server, analyst, azurite, azurite_keys, simulated_azure, pytestconfig
):
    scenario = simulated_azure.scenario
    tenant = scenario.demo_tenant()
    sub = tenant.subscriptions[0].subscription_id
    factories.device(
        "Contoso", tenant_id=tenant.tenant_id, client_id=tenant.client_id, secret=tenant.client_secret
    )
    account, spec = factories.storage_account(
        "ascmonlogs2",
        blob_endpoint=azurite.endpoint("ascmonlogs2"),
        subscription_id=sub,
        resource_group="rg-storage",
    )
    episodes = ingest_episodes(account, spec, azurite, scenario.now, scenario.seed, hours=16)
    alert = factories.family_alert(account, episodes["unusual_place"], "Storage.Blob_TorAnomaly")

    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    evidence = page.locator("#family-evidence")
    assert "Evidence: Access from an unusual place" in evidence.locator("h2").inner_text()
    assert "alice@contoso.example" in evidence.locator("#evidence-ip-requests").inner_text()
    page.wait_for_selector("#activity-events", timeout=20_000)
    timeline = page.locator("#activity-log").inner_text()
    assert "Microsoft.Resources/deployments/write" in timeline and "account keys listed" in timeline
    assert '<script>alert("activity")</script>' in timeline  # shown as text, never run
    assert page.evaluate("document.querySelectorAll('#activity-log script').length") == 0
    out = Path(pytestconfig.getoption("output", default="test-results"))
    out.mkdir(parents=True, exist_ok=True)
    evidence.screenshot(path=str(out / "alert-family-evidence.png"))
    page.locator("#activity-log").screenshot(path=str(out / "alert-activity-log.png"))
