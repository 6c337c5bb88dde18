"""An analyst opens the raw log lines behind the exfiltration alert in Chromium, pages on with htmx, and
the fetch shows in the alert's audit trail."""

from pathlib import Path

import pytest

from tests.browser.test_navigation import log_in
from tests.test_evidence import exfiltration_on_azurite

pytestmark = [
    pytest.mark.browser,
    pytest.mark.peers,
    pytest.mark.usefixtures("azurite_keys"),
    pytest.mark.django_db(transaction=True),
]


def test_the_raw_lines_open_from_the_exfiltration_alert_page(
    page, live_server, azurite, analyst, pytestconfig
):
    account, alert, episode = exfiltration_on_azurite(azurite, name="ascmonlogs2")

    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    page.click("#show-raw-lines")
    page.wait_for_selector("#raw-lines tr.raw-line")
    assert "Raw log lines behind the alert" in page.locator("h1").inner_text()
    rows = page.locator("#raw-lines tr.raw-line")
    shown = rows.count()
    assert 0 < shown <= 100 and episode.ip in rows.first.inner_text()
    more = page.locator("#more-lines a")
    if more.count():  # the next page is appended in place (htmx)
        more.click()
        page.wait_for_selector(f"#raw-lines tr.raw-line >> nth={shown}")
    out = Path(pytestconfig.getoption("output", default="test-results"))
    out.mkdir(parents=True, exist_ok=True)
    page.locator("h1").scroll_into_view_if_needed()
    page.screenshot(path=str(out / "exfiltration-raw-lines.png"))

    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    assert "ana viewed raw log lines" in page.locator("#audit").inner_text()
