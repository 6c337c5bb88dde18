"""An analyst works through alerts in Chromium: bulk triage, errors in place, an expired session, the Back
button, pivots, and an accessibility check (axe-core from npm) of the main pages."""

import json
from pathlib import Path

import pytest

from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import Alert, Comment
from tests import factories
from tests.browser.test_navigation import log_in
from tests.conftest import PASSWORD
from tests.factories import raw_alert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TOR = {"type": "ip", "address": "185.220.101.7", "location": {"countryName": "Tor exit node"}}


@pytest.fixture
def browser_context_args(browser_context_args):
    # The CSP (issue 17) must not stop the test from injecting axe-core.
    return {**browser_context_args, "bypass_csp": True, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def shots(pytestconfig):
    out = Path(pytestconfig.getoption("output", default="test-results"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def alerts(db):
    device = factories.device("Contoso")
    raws = [raw_alert(display_name=f"Tor access {i}", severity="High", entities=[TOR]) for i in range(3)]
    raws += [raw_alert("VM_EICAR", "Test malware file", severity="Low", extended={}, entities=[])]
    Ingester(device, ChangeSource.IMPORT).ingest_page(raws)
    return Alert.objects.order_by("pk")


def test_bulk_triage_of_two_selected_alerts_with_a_confirmation(page, live_server, analyst, alerts, shots):
    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/alerts/")
    for alert in alerts[:2]:
        page.locator(f'#alert-{alert.pk} input[name="ids"]').check()
    bar = page.locator("#bulk-bar")
    bar.get_by_label("Status").select_option("resolved")
    bar.get_by_label("Classification").select_option("falsePositive")
    bar.get_by_role("button", name="Apply…").click()
    question = page.locator("#bulk-question")
    question.wait_for()
    assert "on 2 alerts?" in question.inner_text()
    page.screenshot(path=str(shots / "bulk-triage-confirm.png"))
    page.get_by_role("button", name="Confirm: change 2 alerts").click()
    page.locator("#alert-table .messages").wait_for()
    assert "2 of 2 alerts changed" in page.locator("#alert-table").inner_text()
    assert page.locator(f"#alert-{alerts[0].pk}").inner_text().count("False positive") == 1
    page.screenshot(path=str(shots / "bulk-triage-done.png"))
    assert Alert.objects.filter(triage_status="resolved", classification="falsePositive").count() == 2


def test_errors_show_in_place_and_an_expired_session_keeps_the_input(
    page, live_server, analyst, alerts, shots
):
    alert = alerts[0]
    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    comments = page.locator("#comments")
    comments.get_by_role("button", name="Add comment").click()
    error = comments.locator("#id_body_error")
    error.wait_for()
    assert page.locator("#id_body").get_attribute("aria-describedby") == "id_body_error"
    assert page.url.endswith(f"/alerts/{alert.pk}/")  # in place, not a new page
    page.screenshot(path=str(shots / "triage-error-in-place.png"))

    # The session runs out (the CSRF cookie survives): Save leads to login and back, the choice kept.
    page.locator("#id_triage_status").select_option("in_progress")
    page.context.clear_cookies(name="sessionid")
    page.locator("#triage").get_by_role("button", name="Save").click()
    page.wait_for_url("**/login/**")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/alerts/{alert.pk}/")
    assert page.locator("#id_triage_status").input_value() == "in_progress"
    assert "is back" in page.locator("#triage").inner_text()
    page.locator("#triage").get_by_role("button", name="Save").click()
    page.locator("#alert-badges", has_text="Triage: In progress").wait_for()
    assert "triage_status: new → in_progress" in page.locator("#timeline").inner_text()  # updated out of band
    assert "changed triage_status" in page.locator("#audit").inner_text()

    # Logged out entirely (no CSRF cookie either): the comment typed survives the login too.
    page.fill("#id_body", "Customer confirms the Tor access was theirs")
    page.context.clear_cookies()
    page.locator("#comments").get_by_role("button", name="Add comment").click()
    page.wait_for_url("**/login/**")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/alerts/{alert.pk}/")
    assert page.locator("#id_body").input_value() == "Customer confirms the Tor access was theirs"
    assert "is back" not in page.locator("#triage").inner_text()  # the triage input was sent: nothing kept
    page.screenshot(path=str(shots / "triage-session-expired-input-kept.png"))
    page.locator("#comments").get_by_role("button", name="Add comment").click()
    page.locator("#comments .comment").wait_for()
    assert Comment.objects.get().body == "Customer confirms the Tor access was theirs"


def test_the_back_button_restores_the_filter_menus_from_the_url(page, live_server, analyst, alerts, shots):
    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/alerts/")
    page.locator("#id_severity").select_option("high")
    page.wait_for_url("**severity=high**")
    page.locator("#id_status").select_option("resolved")
    page.wait_for_url("**status=resolved**")
    page.go_back()
    page.wait_for_function("() => !location.search.includes('status=resolved')")
    page.wait_for_function("() => document.querySelector('#id_severity').value === 'high'")
    assert page.locator("#id_status").input_value() == ""
    page.screenshot(path=str(shots / "back-button-filters.png"))
    page.locator("#id_suppressed").select_option("include")
    page.wait_for_url("**suppressed=include**")
    assert "severity=high" in page.url  # the next change keeps the filter
    assert "<strong>3</strong>" in page.locator("#alert-counts").inner_html()


def test_pivot_links_lead_to_exact_filtered_lists(page, live_server, analyst, alerts, shots):
    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/alerts/{alerts[0].pk}/")
    assert "Tor exit node" in page.locator("#summary").inner_text()
    page.locator("#entities").get_by_role("link", name="185.220.101.7").click()
    page.wait_for_url("**entity=185.220.101.7**")
    assert "ip entity: 185.220.101.7" in page.locator("#alert-pivots").inner_text()
    assert "<strong>3</strong>" in page.locator("#alert-counts").inner_html()
    page.screenshot(path=str(shots / "pivot-ip.png"))
    page.locator(f"#alert-{alerts[1].pk}").get_by_role("link", name="Contoso").click()
    page.wait_for_url(f"**device={alerts[1].device_id}**")
    assert page.locator("#id_device").input_value() == str(alerts[1].device_id)


def check_page(page, url, name, shots):
    """axe-core's serious and critical violations on one page, and whether it overflows 768 px."""
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    serious = [
        f"{name}: {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(shots / f"a11y-{name}.png"), full_page=True)
    return serious, overflow


def test_main_pages_have_no_serious_accessibility_violations_and_fit_768_px(
    page, live_server, admin_user, customer_success, alerts, shots
):
    assert AXE.exists(), "npm ci installs axe-core (package.json)"
    page.set_viewport_size({"width": 768, "height": 1000})
    log_in(page, live_server, "adam")
    device = alerts[0].device
    pages = {
        "alert-list": "/alerts/",
        "alert-detail": f"/alerts/{alerts[0].pk}/",
        "alert-groups": "/alerts/groups/?by=entity",
        "devices": "/devices/",
        "device": f"/devices/{device.pk}/",
        "notifications": "/devices/notifications/",
    }
    problems = []
    for name, path in pages.items():
        serious, overflow = check_page(page, f"{live_server.url}{path}", name, shots)
        problems += serious + ([f"{name}: {overflow} px wider than 768"] if overflow > 0 else [])
    page.context.clear_cookies()
    log_in(page, live_server, "cuss")
    serious, overflow = check_page(page, f"{live_server.url}/alerts/", "forbidden", shots)
    assert "SOC analyst" in page.locator("#forbidden").inner_text()
    problems += serious
    assert not problems, json.dumps(problems, indent=1)
