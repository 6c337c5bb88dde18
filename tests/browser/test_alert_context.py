"""An analyst opens an exfiltration alert in Chromium and sees what is usual, drawn."""

from pathlib import Path

import pytest

from ascmon.simulator.storage_activity import exfiltration_episode
from tests import factories
from tests.browser.test_navigation import log_in
from tests.test_decision_support import NOW, SEED, ingest_generated_logs, make_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_exfiltration_alert_page_draws_the_usual_behaviour_chart(page, live_server, analyst, pytestconfig):
    _, account, spec = make_device()
    episode = exfiltration_episode(account.name, NOW, SEED)
    ingest_generated_logs(account, spec, episode)
    alert = factories.exfiltration_alert(account, episode)

    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    page.wait_for_selector('[data-figure="figure-bytes"][data-drawn="true"]', timeout=20_000)
    assert page.locator('[data-figure="figure-bytes"] .main-svg').count() > 0
    assert "What is usual" in page.locator("#usual-context h2").inner_text()
    out = Path(pytestconfig.getoption("output", default="test-results"))
    out.mkdir(parents=True, exist_ok=True)
    page.locator("#usual-context").screenshot(path=str(out / "exfiltration-alert-context.png"))
