"""A fleet, not a tenant: the device page's summary and grouped findings, the fleet page for hundreds of
devices, and the onboarding script the customer's admin runs."""

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.ingest import Ingester
from devices import fleet, onboarding_script
from devices.choices import FindingKind
from devices.finding_groups import group
from devices.models import DefenderPlan, Finding, Subscription
from tests import factories

SUB = "00000000-0000-0000-0000-0000000000{:02d}"
PLANS = ("VirtualMachines", "SqlServers", "StorageAccounts")


def finding(device, kind, subject, severity="medium", subscription_id="", title=None):
    return Finding.objects.create(
        device=device,
        kind=kind,
        severity=severity,
        subject=subject,
        subscription_id=subscription_id,
        title=title or f"{kind} {subject}",
        explanation="why",
        portal_steps="Portal › steps",
        cli_command="az single command",
    )


def plans_off_device(name="plans-off", subscriptions=5):
    client_id = "99999999-0000-0000-0000-000000000001"
    device = factories.device(name, client_id=client_id, last_successful_sync_at=timezone.now())
    for n in range(subscriptions):
        sub_id = SUB.format(n)
        sub = Subscription.objects.create(device=device, subscription_id=sub_id, visible=True)
        for plan in PLANS:
            DefenderPlan.objects.create(subscription=sub, name=plan, pricing_tier="Free")
            finding(device, FindingKind.PLAN_OFF, f"{sub_id}/{plan}", subscription_id=sub_id)
    return device


def test_fifteen_plans_off_are_one_card_listing_each_with_one_loop_and_folded_steps(analyst_client, db):
    device = plans_off_device()
    finding(device, FindingKind.SUBSCRIPTION_MISSING, SUB.format(9), "high", SUB.format(9))
    html = analyst_client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert html.count('class="card finding-group"') == 2
    card = html[html.index('id="findings-plan_off"') :]
    card = card[: card.index("</details>")]
    assert card.count("<li id=") == 15
    assert "15 affected" in card and "How to fix all 15" in card
    assert card.count("az security pricing create") == 1  # one loop, not fifteen commands
    assert f"{SUB.format(4)} StorageAccounts" in card
    assert "<details open" not in html
    # worst first: the missing subscription's card comes before the plans
    assert html.index('id="findings-subscription_missing"') < html.index('id="findings-plan_off"')


def test_the_summary_counts_findings_by_severity_and_alerts_of_the_last_seven_days(analyst_client, db):
    device = plans_off_device(subscriptions=1)
    finding(device, FindingKind.SUBSCRIPTION_MISSING, SUB.format(9), "high", SUB.format(9))
    now = timezone.now()
    Ingester(device).ingest_page(
        [factories.raw_alert(start=now - timedelta(days=d)) for d in (0, 1, 1, 3)]
        + [factories.raw_alert(start=now - timedelta(days=20))]
    )
    html = analyst_client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    summary = html[html.index('aria-label="Summary"') : html.index('id="findings"')]
    assert "1 high" in summary and "3 medium" in summary and "0 low" in summary
    assert "4 alerts in the last 7 days" in summary
    assert summary.count("<rect ") == 7
    assert "no storage logs yet" in summary


def test_the_group_loop_quotes_names_from_azure():
    class Found:
        def __init__(self, subject, sub="s1"):
            self.kind, self.severity, self.subject, self.subscription_id = (
                FindingKind.READ_LOGGING_OFF,
                "medium",
                subject,
                sub,
            )
            self.title, self.cli_command, self.explanation = subject, "", ""

        def get_kind_display(self):
            return "Storage read logging off"

    groups = group([Found("/x/storageAccounts/good"), Found("/x/storageAccounts/$(rm -rf ~)")], "app", 14)
    command = groups[0].command
    assert command.startswith("for account in '$(rm -rf ~)' good; do")
    assert subprocess.run(["bash", "-n"], input=command, text=True).returncode == 0


def fleet_of(count, first=0):
    for n in range(first, first + count):
        device = factories.device(f"dev-{n:03d}", last_successful_sync_at=timezone.now())
        sub = Subscription.objects.create(device=device, subscription_id=SUB.format(n % 90), visible=True)
        DefenderPlan.objects.create(
            subscription=sub, name="StorageAccounts", pricing_tier="Standard" if n % 2 else "Free"
        )
        if n % 3 == 0:
            finding(device, FindingKind.READ_LOGGING_OFF, f"acct{n}")
        if n % 5 == 0:
            finding(device, FindingKind.SUBSCRIPTION_MISSING, f"sub{n}", "high")


def test_the_fleet_page_sorts_worst_health_first_and_pages(analyst_client, db, monkeypatch):
    monkeypatch.setattr(fleet, "PAGE_SIZE", 4)
    fleet_of(10)
    html = analyst_client.get(reverse("devices:list")).content.decode()
    assert "10 devices" in html and "Page 1 of 3" in html
    # dev-000 has a high and a medium finding; dev-005 a high one; then mediums (dev-003, dev-006...)
    rows = [html.index(f">dev-{n:03d}<") for n in (0, 5, 3, 6)]
    assert rows == sorted(rows)
    second = analyst_client.get(reverse("devices:list") + "?page=3", headers={"HX-Request": "true"})
    assert "Page 3 of 3" in second.content.decode()
    assert second.content.decode().count('<tr id="device-') == 2


def test_the_fleet_filters_by_finding_kind_and_plan_coverage(analyst_client, db):
    fleet_of(10)
    url = reverse("devices:list")
    missing = analyst_client.get(url, {"kind": FindingKind.SUBSCRIPTION_MISSING}).content.decode()
    assert missing.count('<tr id="device-') == 2  # dev-000 and dev-005
    gaps = analyst_client.get(url, {"plan": "StorageAccounts", "coverage": "gaps"}).content.decode()
    assert gaps.count('<tr id="device-') == 5 and ">dev-001<" not in gaps
    full = analyst_client.get(url, {"plan": "StorageAccounts", "coverage": "full"}).content.decode()
    assert full.count('<tr id="device-') == 5 and ">dev-000<" not in full
    none = analyst_client.get(url, {"plan": "KeyVaults", "coverage": "full"}).content.decode()
    assert "No device matches these filters." in none


def test_the_fleet_query_count_stays_flat_from_ten_to_sixty_devices(analyst_client, db):
    fleet_of(10)
    url = reverse("devices:list") + "?kind=read_logging_off&coverage=gaps"
    with CaptureQueriesContext(connection) as few:
        analyst_client.get(url)
    fleet_of(50, first=10)
    with CaptureQueriesContext(connection) as many:
        analyst_client.get(reverse("devices:list") + "?kind=read_logging_off&coverage=gaps")
    assert len(many) == len(few)


def test_the_add_page_fills_the_script_for_the_customers_subscriptions(cs_client, db):
    sub = "11111111-2222-3333-4444-555555555555"
    account = f"/subscriptions/{sub}/resourceGroups/rg-a/providers/Microsoft.Storage/storageAccounts/acct1"
    page = cs_client.get(reverse("devices:add")).content.decode()
    assert "Enter the customer's subscription ids" in page and "Copy the script" in page
    response = cs_client.get(
        reverse("devices:add"),
        {"script_subscriptions": f"{sub}\n$(reboot)", "script_accounts": account},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="onboarding-script"')
    assert f"subscriptions=({sub})" in html
    assert "--role &quot;Security Reader&quot;" in html
    assert "Storage Account Key Operator Service Role" in html
    assert "Left out" in html and "$(reboot)" not in html.split("<pre>")[1]
    assert "Security Admin" in html  # named as left to the customer, never granted
    assert "--role &quot;Security Admin&quot;" not in html


def test_the_script_is_valid_bash_and_grants_only_the_readme_roles():
    sub = "11111111-2222-3333-4444-555555555555"
    script = onboarding_script.build([sub, "x y"], [], app_name="ascmon; rm")
    assert subprocess.run(["bash", "-n"], input=script.text, text=True).returncode == 0
    roles = {line.split('--role "')[1].split('"')[0] for line in script.text.splitlines() if "--role" in line}
    assert roles == {"Reader", "Security Reader", "Storage Account Key Operator Service Role"}
    assert "--display-name ascmon " in script.text  # a malformed app name falls back
    assert script.rejected == ["x y"]


def test_the_device_page_links_to_the_permissions_script_while_roles_are_missing(cs_client, db):
    device = plans_off_device(subscriptions=1)
    url = reverse("devices:detail", args=[device.pk])
    assert 'id="permissions-missing"' not in cs_client.get(url).content.decode()
    finding(device, FindingKind.ALERTS_FORBIDDEN, SUB.format(0), "high", SUB.format(0))
    assert 'id="permissions-missing"' in cs_client.get(url).content.decode()
    html = cs_client.get(reverse("devices:permissions", args=[device.pk])).content.decode()
    assert f"app_id={device.client_id}" in html and "az ad app create" not in html
    assert f"subscriptions=({SUB.format(0)})" in html


@pytest.mark.parametrize("when", [datetime(2026, 1, 1, tzinfo=UTC)])
def test_day_bars_scale_to_the_busiest_day(when):
    from devices.charts import day_bars

    chart = day_bars([(when.date(), 0), (when.date(), 5), (when.date(), 10)])
    assert [bar["height"] for bar in chart["bars"]] == [1, 30, 60]


def test_ingestion_lag_is_how_far_the_slowest_account_trails(analyst_client, db):
    from storage_logs.models import AccountIngest

    fast, _ = factories.storage_account("fastacct", device_name="laggy")
    slow, _ = factories.storage_account("slowacct", device_name="laggy")
    now = timezone.now()
    AccountIngest.objects.create(account=fast, read_until=now - timedelta(hours=1))
    AccountIngest.objects.create(account=slow, read_until=now - timedelta(hours=3, minutes=5))
    html = analyst_client.get(reverse("devices:detail", args=[fast.device_id])).content.decode()
    lag = html[html.index('id="summary-lag"') :]
    assert "3\xa0hours" in lag[: lag.index("</div>")]
    fleet_html = analyst_client.get(reverse("devices:list")).content.decode()
    assert "3\xa0hours" in fleet_html
