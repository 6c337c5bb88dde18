"""The price book: seeded from docs/log-pricing.md with a source, an effective date, a region and a currency
for every price; the prices in effect on a day; LOG_ANALYTICS_PRICE_PER_GB as the fallback."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from storage_logs import price_seed, pricebook
from storage_logs.choices import PriceItem
from storage_logs.models import Price, PriceList
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_seeded_book_prices_every_item_with_a_source_a_date_a_region_and_a_currency():
    book = PriceList.objects.get(is_default=True)
    assert (book.region, book.currency) == ("eastus", "USD")
    prices = list(book.prices.all())
    assert {p.item for p in prices} == set(PriceItem.values)
    assert all(p.source and p.effective_from for p in prices)
    seeded = {(p.item, p.tier_gb_per_day): p.amount for p in prices}
    assert seeded[("analytics_ingestion", 0)] == Decimal("2.30")
    assert seeded[("commitment_tier", 100)] == Decimal("196") and seeded[("commitment_tier", 5000)] == 8050
    assert seeded[("auxiliary_ingestion", 0)] == Decimal("0.05")
    assert seeded[("auxiliary_processing", 0)] == Decimal("0.10")
    included = {p.item: p.included_retention_days for p in prices if p.included_retention_days}
    assert included == {"analytics_ingestion": 31, "commitment_tier": 31, "basic_ingestion": 30,
                        "auxiliary_ingestion": 30}  # fmt: skip


def test_the_price_in_effect_is_the_latest_one_not_after_the_day():
    book = PriceList.objects.get(is_default=True)
    Price.objects.create(price_list=book, item="basic_ingestion", amount="0.60", included_retention_days=30,
                         effective_from=date(2027, 1, 1), source="announced")  # fmt: skip
    assert pricebook.load(on=date(2026, 12, 31))[0].rate("basic_ingestion").amount == 0.50
    assert pricebook.load(on=date(2027, 1, 1))[0].rate("basic_ingestion").amount == 0.60


def test_without_a_price_book_the_environment_variable_prices_analytics(cs_client, settings):
    settings.LOG_ANALYTICS_PRICE_PER_GB = 3.00
    PriceList.objects.all().delete()
    account, _ = factories.storage_account("envacct")
    factories.daily_volumes(account, date(2026, 5, 1), 2, billable_bytes=10**9, raw_bytes=10**9)
    page = cs_client.get(reverse("storage_logs:account_cost", args=[account.pk])).content.decode()
    assert f"${3.00 * 365:,.0f}" in page and "LOG_ANALYTICS_PRICE_PER_GB (environment variable)" in page


def test_an_installation_keeps_its_own_analytics_price_when_the_book_is_seeded():
    PriceList.objects.all().delete()
    price_seed.seed(PriceList, Price, analytics_price=Decimal("2.99"))
    seeded = Price.objects.get(item="analytics_ingestion")
    assert seeded.amount == Decimal("2.99") and seeded.source == "LOG_ANALYTICS_PRICE_PER_GB at installation"


def test_one_price_list_is_the_default():
    euro = PriceList.objects.create(name="West Europe", region="westeurope", currency="EUR", is_default=True)
    assert list(PriceList.objects.filter(is_default=True)) == [euro]
