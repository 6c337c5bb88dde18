"""Customer success opens a device's cost page in Chromium: the billed-volume chart is drawn; the cost
pages and the device page with its cost table pass axe-core and fit 768 px."""

import json
from datetime import date, timedelta

import pytest

from storage_logs import price_seed
from storage_logs.models import Price, PriceList
from tests import factories
from tests.browser.test_navigation import log_in
from tests.browser.test_triage import AXE, check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}  # axe-core is injected (tests/browser/test_triage.py)


@pytest.fixture
def shots(pytestconfig):
    from pathlib import Path

    out = Path(pytestconfig.getoption("output", default="test-results"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_the_device_cost_page_draws_raw_against_aggregated_billed_volume(
    page, live_server, customer_success, shots
):
    price_seed.seed(PriceList, Price)  # a transactional test starts without the migration's rows
    account, _ = factories.storage_account("fabrikamlogs", device_name="Fabrikam")
    first = date(2026, 9, 1)
    for n in range(60):
        raw = (2 + n % 7) * 10**9  # a weekly rhythm
        factories.daily_volumes(
            account, first + timedelta(days=n), 1, raw_bytes=raw * 3 // 2, billable_bytes=raw,
            raw_lines=4_000_000, aggregate_bytes=30_000_000, aggregate_billable_bytes=20_000_000 + n * 10**5,
            aggregate_records=100_000,
        )  # fmt: skip

    log_in(page, live_server, "cuss")
    page.set_viewport_size({"width": 768, "height": 1000})
    page.goto(f"{live_server.url}/storage/cost/devices/{account.device.pk}/")
    page.wait_for_selector('[data-figure="figure-billed"][data-drawn="true"]', timeout=20_000)
    chart = page.locator('[data-figure="figure-billed"]')
    assert chart.locator(".main-svg").count() > 0
    assert chart.locator(".scatterlayer .trace").count() == 2  # raw and aggregated
    assert "log scale" in chart.inner_text()
    chart.screenshot(path=str(shots / "cost-device-chart.png"))

    assert AXE.exists(), "npm ci installs axe-core (package.json)"
    problems = []
    for name, path in (
        ("cost-device", f"/storage/cost/devices/{account.device.pk}/"),
        ("cost-overview", "/storage/cost/"),
        ("device-with-cost", f"/devices/{account.device.pk}/"),
    ):
        serious, overflow = check_page(page, f"{live_server.url}{path}", name, shots)
        problems += serious + ([f"{name}: {overflow} px wider than 768"] if overflow > 0 else [])
    assert page.locator("#cost-plans").is_visible()  # the device page's cost table
    assert not problems, json.dumps(problems, indent=1)
