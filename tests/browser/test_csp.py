"""Under the Content-Security-Policy, a page with charts draws them and the console reports no violation."""

from pathlib import Path

import pytest

from ascmon.simulator.storage_activity import exfiltration_episode
from tests import factories
from tests.browser.test_navigation import log_in
from tests.test_decision_support import NOW, SEED, ingest_generated_logs, make_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  var seen = [event.violatedDirective, event.blockedURI, event.sourceFile, event.sample];
  window.cspViolations.push(seen.join(" "));
});
"""


def test_the_alert_charts_draw_under_the_csp_without_a_violation(page, live_server, analyst, pytestconfig):
    device, account, spec = make_device()
    episode = exfiltration_episode(account.name, NOW, SEED)
    ingest_generated_logs(account, spec, episode)
    alert = factories.exfiltration_alert(account, episode)
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.add_init_script(RECORD_VIOLATIONS)

    log_in(page, live_server, "ana")
    response = page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    for figure in ("figure-bytes", "figure-operations"):
        page.wait_for_selector(f'[data-figure="{figure}"][data-drawn="true"]', timeout=20_000)
        assert page.locator(f'[data-figure="{figure}"] .main-svg').count() > 0
    page.locator("[data-figure=figure-bytes] .main-svg").first.hover()  # plotly's hover layer and modebar
    out = Path(pytestconfig.getoption("output", default="test-results"))
    out.mkdir(parents=True, exist_ok=True)
    page.locator("#usual-context").screenshot(path=str(out / "alert-charts-under-csp.png"))

    assert page.evaluate("window.cspViolations") == []
    assert not [line for line in console if "Content Security Policy" in line or "CSP" in line], console
