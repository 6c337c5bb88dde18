"""The cost pages as customer success uses them: a device's and an account's billed volume, every plan
priced from the stored daily volumes and the price book, retention, the cheapest way, CSV exports, the
device page's cost table, and query counts that do not grow with days or accounts."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.urls import reverse

from storage_logs.models import DailyVolume, Price, PriceList
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("microsoft_units"),
]
MAY = date(2026, 5, 1)
GB = 10**9


@pytest.fixture
def microsoft_units(settings):
    settings.LOG_ANALYTICS_MB_PER_GB = 1000
    settings.LOG_ANALYTICS_DAYS_PER_YEAR = 365


def logging_account(name, device_name="Fabrikam", retention=30, first=MAY, days=10, scale=1.0):
    account, _ = factories.storage_account(
        name, device_name=device_name, subscription_id=f"sub-{device_name}"
    )
    account.logging_retention_days = retention
    account.save()
    factories.daily_volumes(
        account,
        first,
        days,
        raw_bytes=int(3 * GB * scale),
        billable_bytes=int(2 * GB * scale),
        raw_lines=int(4_000_000 * scale),
        aggregate_bytes=int(30_000_000 * scale),
        aggregate_billable_bytes=int(20_000_000 * scale),
        aggregate_records=int(100_000 * scale),
    )
    return account


def prices():
    """The default list's prices, straight from the book (so the test follows an edited seed)."""
    book = Price.objects.filter(price_list__is_default=True, tier_gb_per_day=0)
    return {price.item: float(price.amount) for price in book}


def expected(accounts):
    """Each plan's yearly and monthly figures recomputed here from the stored daily volumes."""
    p = prices()
    end = max(DailyVolume.objects.filter(account__in=accounts).values_list("day", flat=True))
    totals = {"raw_gb": 0.0, "agg_gb": 0.0, "analytics_raw_retention": 0.0, "aux_raw": 0.0, "basic_raw": 0.0}
    for account in accounts:
        rows = list(DailyVolume.objects.filter(account=account))
        days = (end - min(r.day for r in rows)).days + 1
        raw_gb = sum(r.billable_bytes for r in rows) / days / GB
        agg_gb = sum(r.aggregate_billable_bytes for r in rows) / days / GB
        lines = sum(r.raw_lines for r in rows) / days
        file_gb = sum(r.raw_bytes for r in rows) / days / GB
        # Auxiliary bills _ResourceId, _SubscriptionId, _TenantId and Type on every row (cost-logs.md)
        overhead = len(account.resource_id + "/blobServices/default") + 36 + 36 + len("StorageBlobLogs_CL")
        aux_gb = raw_gb + lines * overhead / GB
        kept = account.logging_retention_days
        totals["raw_gb"] += raw_gb
        totals["agg_gb"] += agg_gb
        totals["analytics_raw_retention"] += raw_gb * max(0, min(kept, 730) - 31) * p["interactive_retention"]
        totals["aux_raw"] += (aux_gb * p["auxiliary_ingestion"] + file_gb * p["auxiliary_processing"]) * 365
        totals["aux_raw"] += aux_gb * max(0, kept - 30) * p["long_term_retention"] * 12
        totals["basic_raw"] += raw_gb * 365 * p["basic_ingestion"]
        totals["basic_raw"] += raw_gb * max(0, kept - 30) * p["long_term_retention"] * 12
    totals["analytics_raw_year"] = totals["raw_gb"] * p["analytics_ingestion"] * 365
    totals["analytics_agg_year"] = totals["agg_gb"] * p["analytics_ingestion"] * 365
    return totals


def csv_rows(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def plan_line(rows, plan, part):
    return next(r for r in rows if r[1] == plan and r[2].startswith(part))


def test_the_device_cost_page_shows_every_plan_recomputed_from_the_stored_daily_volumes(cs_client):
    short = logging_account("fabshort")
    long = logging_account("fablong", retention=400, first=date(2026, 5, 6), days=5, scale=0.6)
    device = short.device
    want = expected([short, long])

    page = cs_client.get(reverse("storage_logs:device_cost", args=[device.pk])).content.decode()
    assert "<h1>Cost · Fabrikam</h1>" in page
    assert f"raw logs <strong>{want['raw_gb'] * 1000:,.0f} MB/day</strong>" in page
    assert f"aggregated <strong>{want['agg_gb'] * 1000:,.1f} MB/day</strong>" in page
    assert f"${want['analytics_raw_year']:,.0f}" in page
    assert "Retention: 30, 400 days" in page and "Billing rule used:" in page
    assert "the average day from 2026-05-01 to 2026-05-10" in page

    rows = csv_rows(cs_client.get(reverse("storage_logs:device_cost_export", args=[device.pk])))
    analytics = plan_line(rows, "Analytics, pay-as-you-go", "ingestion")
    assert float(analytics[4]) == pytest.approx(want["analytics_raw_year"], abs=0.01)
    assert float(analytics[6]) == pytest.approx(want["analytics_agg_year"], abs=0.01)
    retention = plan_line(rows, "Analytics, pay-as-you-go", "retention")
    assert retention[2] == "retention, 30/400 days"
    assert float(retention[3]) == pytest.approx(want["analytics_raw_retention"], abs=0.01)
    assert float(plan_line(rows, "Auxiliary / Sentinel data lake", "total")[4]) == pytest.approx(
        want["aux_raw"], abs=0.01
    )
    assert float(plan_line(rows, "Basic", "total")[4]) == pytest.approx(want["basic_raw"], abs=0.01)
    total = plan_line(rows, "Analytics, pay-as-you-go", "total")
    reduction = (1 - float(total[6]) / float(total[4])) * 100
    assert total[7] == f"{reduction:.1f}"


def test_the_page_names_the_cheapest_way_to_keep_aggregates_in_analytics_and_raw_logs_searchable(cs_client):
    account = logging_account("fabrecommend", retention=90)
    page = cs_client.get(reverse("storage_logs:account_cost", args=[account.pk])).content.decode()
    assert "Cheapest way to keep what analysts need:</strong> Aggregates in Analytics, raw logs in" in page
    assert 'class="recommended"' in page and "cheapest</span>" in page
    assert "Queries 0.005 USD per GB scanned" in page  # each plan's limits in one line
    assert "Retention, 90 days" in page


def test_prices_edited_in_the_admin_change_the_page(client, admin_user, customer_success):
    account = logging_account("fabprices", days=3)
    url = reverse("storage_logs:device_cost", args=[account.device.pk])
    client.force_login(customer_success)
    before = client.get(url).content.decode()
    assert "$1,679" in before  # 2 GB/day × 2.30 × 365 (the seeded price)

    price = Price.objects.get(price_list__is_default=True, item="analytics_ingestion")
    client.force_login(admin_user)
    form = {
        "price_list": price.price_list_id,
        "item": price.item,
        "tier_gb_per_day": 0,
        "amount": "3.10",
        "included_retention_days": 31,
        "effective_from": "2026-01-01",
        "source": "azure.microsoft.com/pricing/details/monitor, read by an admin",
        "note": "",
    }
    response = client.post(reverse("admin:storage_logs_price_change", args=[price.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]

    client.force_login(customer_success)
    after = client.get(url).content.decode()
    assert "$1,679" not in after and "$2,263" in after  # 2 GB/day × 3.10 × 365
    assert "azure.microsoft.com/pricing/details/monitor, read by an admin" in after


def test_a_price_takes_over_on_its_effective_date_and_a_future_one_waits(
    client, admin_user, customer_success
):
    account = logging_account("fabfuture", days=3)
    price_list = PriceList.objects.get(is_default=True)
    client.force_login(admin_user)
    for amount, day in (("2.50", "2026-06-01"), ("9.99", "2099-01-01")):
        form = {
            "price_list": price_list.pk,
            "item": "analytics_ingestion",
            "tier_gb_per_day": 0,
            "amount": amount,
            "included_retention_days": 31,
            "effective_from": day,
            "source": f"announced for {day}",
        }
        assert client.post(reverse("admin:storage_logs_price_add"), form).status_code == 302
    client.force_login(customer_success)
    page = client.get(reverse("storage_logs:account_cost", args=[account.pk])).content.decode()
    assert f"${2 * 2.50 * 365:,.0f}" in page and "announced for 2026-06-01" in page
    assert "announced for 2099-01-01" not in page


def test_analysts_cannot_edit_prices_and_customer_success_cannot_either(client, analyst, customer_success):
    price = Price.objects.filter(price_list__is_default=True).first()
    for user in (analyst, customer_success):
        client.force_login(user)
        response = client.get(reverse("admin:storage_logs_price_change", args=[price.pk]))
        assert response.status_code in (302, 403)


def test_a_commitment_tier_needs_its_gb_per_day(admin_client_):
    form = {
        "price_list": PriceList.objects.get(is_default=True).pk,
        "item": "commitment_tier",
        "tier_gb_per_day": 0,
        "amount": "100",
        "included_retention_days": 31,
        "effective_from": "2026-01-01",
        "source": "x",
    }
    response = admin_client_.post(reverse("admin:storage_logs_price_add"), form)
    assert (
        response.status_code == 200 and "A commitment tier needs its GB per day." in response.content.decode()
    )


def test_another_price_list_prices_in_its_own_currency(cs_client):
    account = logging_account("fabeuro", days=3)
    euro = PriceList.objects.create(name="West Europe", region="westeurope", currency="EUR")
    Price.objects.create(
        price_list=euro, item="analytics_ingestion", amount="2.50", included_retention_days=31,
        effective_from=date(2026, 1, 1), source="test",
    )  # fmt: skip
    url = reverse("storage_logs:device_cost", args=[account.device.pk])
    page = cs_client.get(url, {"prices": euro.pk}).content.decode()
    assert f"€{2 * 2.50 * 365:,.0f}" in page and "West Europe (westeurope, EUR)" in page
    assert page.count("no price in the price book") >= 3  # Basic, Auxiliary, tiers: not in this list


def test_the_retention_from_the_form_prices_that_many_days(cs_client):
    account = logging_account("fabretention", days=3)
    url = reverse("storage_logs:account_cost", args=[account.pk])
    page = cs_client.get(url, {"retention": "365"}).content.decode()
    assert "Retention, 365 days" in page
    monthly = 2 * (365 - 31) * prices()["interactive_retention"]
    assert f"${monthly:,.2f}" in page  # under 100: cents
    assert "Retention, 30 days" in cs_client.get(url, {"retention": "nonsense"}).content.decode()


def test_an_account_without_a_retention_limit_counts_as_ninety_days_and_the_page_says_so(cs_client):
    account = logging_account("fabforever", retention=None, days=3)
    page = cs_client.get(reverse("storage_logs:account_cost", args=[account.pk])).content.decode()
    assert "keeps its logs without a limit counts as 90 days" in page


def test_days_stored_before_billed_sizes_were_recorded_count_at_file_size(cs_client):
    account, _ = factories.storage_account("fabold", device_name="Fabrikam")
    factories.daily_volumes(account, MAY, 2, raw_bytes=GB, aggregate_bytes=10_000_000)
    page = cs_client.get(reverse("storage_logs:account_cost", args=[account.pk])).content.decode()
    assert (
        "raw logs <strong>1,000 MB/day</strong>" in page and "aggregated <strong>10.0 MB/day</strong>" in page
    )
    assert "2 account-days stored before billed sizes were recorded count at file size" in page


def test_a_device_without_logs_says_so(cs_client):
    account, _ = factories.storage_account("fabquiet", device_name="Quiet")
    page = cs_client.get(reverse("storage_logs:device_cost", args=[account.device.pk])).content.decode()
    assert "No storage logs ingested yet" in page and 'data-figure="figure-billed"' not in page


def test_the_device_page_shows_the_cost_table_to_customer_success_and_admins_only(
    client, analyst, customer_success
):
    account = logging_account("fabdevice", days=3)
    url = reverse("devices:detail", args=[account.device.pk])
    client.force_login(customer_success)
    page = client.get(url).content.decode()
    assert 'id="cost-plans"' in page and "Analytics, pay-as-you-go" in page
    assert reverse("storage_logs:device_cost", args=[account.device.pk]) in page
    assert "Billing rule used:" in page
    client.force_login(analyst)
    assert 'id="cost-plans"' not in client.get(url).content.decode()


def test_the_overview_lists_each_device_with_its_cheapest_way(cs_client):
    account = logging_account("faboverview", days=3)
    page = cs_client.get(reverse("storage_logs:cost")).content.decode()
    assert reverse("storage_logs:device_cost", args=[account.device.pk]) in page
    assert reverse("storage_logs:account_cost", args=[account.pk]) in page
    assert "Aggregates in Analytics, raw logs in" in page and "Billing rule used:" in page


def test_csv_exports_neutralise_formulas_in_names(cs_client):
    account = logging_account("=cmd|' /C calc'!A0", device_name="+SUM(1,2)", days=3)
    device_rows = csv_rows(
        cs_client.get(reverse("storage_logs:device_cost_export", args=[account.device.pk]))
    )
    assert device_rows[1][0] == "'+SUM(1,2)"
    overview = csv_rows(cs_client.get(reverse("storage_logs:cost_export")))
    line = next(r for r in overview if r[0].startswith("'+SUM"))
    assert line[1] == "'=cmd|' /C calc'!A0"
    days = csv_rows(
        cs_client.get(reverse("storage_logs:account_cost_export", args=[account.pk]), {"table": "days"})
    )
    assert days[0][:3] == ["scope", "day", "raw billed MB"] and days[1][0] == "'=cmd|' /C calc'!A0"
    assert days[1][1:3] == ["2026-05-01", "2000.000"]


def page_queries(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as counted:
        assert client.get(url).status_code == 200
    return len(counted.captured_queries)


COUNTED = ["device_cost", "device_cost_export", "account_cost", "account_cost_export", "cost", "cost_export"]


@pytest.mark.parametrize("name", [*COUNTED, "devices:detail"])
def test_query_counts_do_not_grow_with_days_or_accounts(cs_client, django_assert_max_num_queries, name):
    first = logging_account("fabq0", days=1)

    def url():
        if name == "devices:detail":
            return reverse(name, args=[first.device.pk])
        scope = {"device": [first.device.pk], "account": [first.pk]}.get(name.split("_")[0], [])
        return reverse(f"storage_logs:{name}", args=scope)

    few = page_queries(cs_client, url(), django_assert_max_num_queries, 40)
    factories.daily_volumes(first, date(2026, 5, 2), 59, raw_bytes=GB, billable_bytes=GB, raw_lines=10**6)
    for n in range(1, 5):
        logging_account(f"fabq{n}", days=60)
    logging_account("otherq", device_name="Other", days=60)
    page_queries(cs_client, url(), django_assert_max_num_queries, few)


def test_todays_day_is_drawn_but_averaged_only_when_it_is_the_only_one(cs_client):
    from django.utils import timezone

    today = timezone.now().date()
    account = logging_account("fabtoday", first=today, days=1)
    url = reverse("storage_logs:account_cost", args=[account.pk])
    assert "(today so far: its logs are still being read)" in cs_client.get(url).content.decode()
    factories.daily_volumes(account, today - timedelta(days=1), 1, billable_bytes=GB, raw_bytes=GB)
    page = cs_client.get(url).content.decode()
    assert (
        "(today, still being read, is not counted)" in page
        and "raw logs <strong>1,000 MB/day</strong>" in page
    )
    assert "(so far)" in page  # in the chart's table


@override_settings(
    LOG_ANALYTICS_PRICE_PER_GB=2.30, LOG_ANALYTICS_MB_PER_GB=1024, LOG_ANALYTICS_DAYS_PER_YEAR=356
)
def test_the_seeds_rows_come_back_with_billed_sizes_too(cs_client):
    mb = 1024 * 1024
    account, _ = factories.storage_account("fabseed", device_name="Seed")
    factories.daily_volumes(
        account, MAY, 2, raw_bytes=200000 * mb, billable_bytes=173268 * mb,
        aggregate_bytes=4000 * mb, aggregate_billable_bytes=2917 * mb,
    )  # fmt: skip
    page = cs_client.get(reverse("storage_logs:cost")).content.decode()
    assert "173,268" in page and "2,917" in page and "$138,547" in page and "$2,332" in page
    assert "98.3 %" in page
