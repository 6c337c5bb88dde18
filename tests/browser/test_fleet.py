"""A fleet in Chromium: the device page's first screen, the fleet page's htmx filters and pages, and the
admin's tuning flow (alert types → "Suppress these types" → preview → saved rule with its hits). Each
saves a screenshot under test-results/."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import SuppressionRule
from devices import fleet
from devices.models import DefenderPlan, Finding, Subscription
from tests import factories
from tests.browser.test_navigation import log_in
from tests.browser.test_triage import AXE, check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SUB = "00000000-0000-0000-0000-0000000000{:02d}"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}  # axe-core is injected (tests/browser/test_triage.py)


@pytest.fixture
def shots(pytestconfig):
    from pathlib import Path

    out = Path(pytestconfig.getoption("output", default="test-results"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def finding(device, kind, subject, severity="medium", sub=""):
    Finding.objects.create(
        device=device, kind=kind, severity=severity, subject=subject, subscription_id=sub,
        title=f"{kind.replace('_', ' ')}: {subject}", explanation="why", portal_steps="Portal › steps",
        cli_command="az one",
    )  # fmt: skip


def tailspin():
    """Fifteen plans off over five subscriptions, one missing subscription, alerts over the week."""
    device = factories.device("Tailspin", last_successful_sync_at=timezone.now())
    for n in range(5):
        sub = Subscription.objects.create(device=device, subscription_id=SUB.format(n), visible=True)
        for plan in ("VirtualMachines", "SqlServers", "StorageAccounts"):
            DefenderPlan.objects.create(subscription=sub, name=plan, pricing_tier="Free")
            finding(device, "plan_off", f"{SUB.format(n)}/{plan}", sub=SUB.format(n))
    finding(device, "subscription_missing", SUB.format(9), "high", SUB.format(9))
    now = timezone.now()
    Ingester(device, ChangeSource.IMPORT).ingest_page(
        [factories.raw_alert(start=now - timedelta(days=d % 7, hours=1)) for d in range(12)]
    )
    return device


def test_the_device_page_fits_its_summary_and_grouped_findings_in_two_screens(
    page, live_server, customer_success, shots
):
    device = tailspin()
    log_in(page, live_server, "cuss")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/devices/{device.pk}/")
    assert page.locator(".card.finding-group").count() == 2
    plans = page.locator("#findings-plan_off")
    assert plans.locator("li").count() == 15
    assert not plans.locator("pre").is_visible()  # the fix is folded
    plans.locator("summary").click()
    assert "while read -r sub plan" in plans.locator("pre").inner_text()
    plans.locator("summary").click()
    bottom = page.evaluate(
        "() => document.querySelector('#findings-plan_off').getBoundingClientRect().bottom + window.scrollY"
    )
    assert bottom <= 2 * 900, f"the findings end {bottom} px down: more than two screens"
    assert page.locator("#summary-alerts svg rect").count() == 7
    assert "1 high" in page.locator("#summary-health").inner_text()
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "fleet-device-page.png"), full_page=False)
    assert AXE.exists()
    serious, _ = check_page(page, f"{live_server.url}/devices/{device.pk}/", "fleet-device-page", shots)
    assert not serious, json.dumps(serious, indent=1)


def test_the_fleet_page_filters_and_pages_through_htmx(page, live_server, analyst, shots, monkeypatch):
    monkeypatch.setattr(fleet, "PAGE_SIZE", 5)
    for n in range(12):
        device = factories.device(f"tenant-{n:02d}", last_successful_sync_at=timezone.now())
        sub = Subscription.objects.create(device=device, subscription_id=SUB.format(n), visible=True)
        DefenderPlan.objects.create(
            subscription=sub, name="StorageAccounts", pricing_tier="Free" if n % 3 else "Standard"
        )
        if n % 4 == 0:
            finding(device, "subscription_missing", f"s{n}", "high")
    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/devices/")
    assert "Page 1 of 3" in page.locator("#fleet-table").inner_text()
    first_row = page.locator("#fleet-table tbody tr").first.inner_text()
    assert "high" in first_row  # worst health first
    page.locator("#fleet-table nav a", has_text="Next").click()
    page.wait_for_function("() => document.querySelector('#fleet-table').innerText.includes('Page 2 of 3')")
    assert "page=2" in page.url
    page.select_option("#id_kind", "subscription_missing")
    page.wait_for_function("() => document.querySelectorAll('#fleet-table tbody tr').length === 3")
    page.select_option("#id_kind", "")
    page.select_option("#id_plan", "StorageAccounts")
    page.select_option("#id_coverage", "full")
    page.wait_for_function("() => document.querySelectorAll('#fleet-table tbody tr').length === 4")
    page.screenshot(path=str(shots / "fleet-page.png"), full_page=True)
    serious, overflow = check_page(page, f"{live_server.url}/devices/", "fleet-page", shots)
    assert not serious, json.dumps(serious, indent=1)


def test_an_admin_suppresses_a_noisy_type_after_seeing_what_it_would_hide(
    page, live_server, admin_user, shots
):
    device = factories.device("Contoso")
    now = timezone.now()
    Ingester(device, ChangeSource.IMPORT).ingest_page(
        [
            factories.raw_alert("KV_SuspiciousIPAccess", "Vault scan", start=now - timedelta(days=d))
            for d in range(6)
        ]
        + [factories.raw_alert("VM_EICAR", "EICAR", start=now - timedelta(days=1))]
    )
    log_in(page, live_server, "adam")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/alerts/alerttype/")
    row = page.locator("tr", has_text="KV_SuspiciousIPAccess")
    assert row.locator("td.field-alerts_last_30_days").inner_text() == "6"
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "suppress_types")
    page.click("button[name=index]")
    page.wait_for_selector("tr.draft-rule")
    assert "Vault scan" in page.locator("tr.draft-rule").inner_text()
    assert not SuppressionRule.objects.filter(alert_type="KV_SuspiciousIPAccess").exists()
    page.screenshot(path=str(shots / "fleet-suppress-preview.png"), full_page=True)
    page.fill("#id_reason", "Vault scanner of the backup team")
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/admin/alerts/alerttype/"))
    assert "1 suppression rule(s) saved; 6 alert(s) hidden now." in page.inner_text(".messagelist")
    page.goto(f"{live_server.url}/admin/alerts/suppressionrule/")
    rule = page.locator("tr", has_text="Vault scanner of the backup team")
    assert rule.locator("td.field-hits_last_7_days").inner_text() == "6"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the rule list is {overflow} px wider than the window"
    page.screenshot(path=str(shots / "fleet-suppression-rules.png"), full_page=True)
