"""A person logs in with Chromium and walks every menu entry."""

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_admin_logs_in_and_visits_every_menu_entry(page, live_server, admin_user):
    log_in(page, live_server, "adam")
    for entry, heading in [
        ("Alerts", "Alerts"),
        ("Devices", "Devices"),
        ("Cost", "Cost"),
        ("Notifications", "Notifications"),
    ]:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=entry).click()
        assert page.locator("h1").first.inner_text().startswith(heading)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    assert "Site administration" in page.content()


def test_analyst_sees_the_dashboard_shell(page, live_server, analyst):
    log_in(page, live_server, "ana")
    assert page.locator("h1").first.inner_text().startswith("Alerts")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Admin").count() == 0
