"""Volume and cost: the blog's two rows, one row per device, and a page whose query count stays flat."""

from datetime import date

import pytest
from django.test import override_settings
from django.urls import reverse

from storage_logs.models import DailyVolume, yearly_cost
from tests import factories

MB = 1024 * 1024


def test_the_blogs_two_rows_fit_2_30_per_gb_1024_mb_per_gb_and_a_356_day_year():
    # The blog's table fits $2.30/GB, 1024 MB/GB and 356 days (a typo for 365): docs/azure-formats.md §7.
    assert round(yearly_cost(173268, 2.30, 1024, 356)) == 138547
    assert round(yearly_cost(2917, 2.30, 1024, 356)) == 2332
    assert round(yearly_cost(173268, 2.30, 1024, 365)) == 142049


def device_with_volume(name, raw_mb, agg_mb, days=(date(2026, 5, 1),)):
    account, _ = factories.storage_account(f"{name}logs", device_name=name, subscription_id=f"sub-{name}")
    device = account.device
    for day in days:
        DailyVolume.objects.create(
            account=account, day=day, raw_bytes=raw_mb * MB, aggregate_bytes=agg_mb * MB
        )
    return device


@pytest.mark.django_db
@override_settings(
    LOG_ANALYTICS_PRICE_PER_GB=2.30, LOG_ANALYTICS_MB_PER_GB=1024, LOG_ANALYTICS_DAYS_PER_YEAR=356
)
def test_the_cost_page_reproduces_the_blogs_rows(cs_client):
    device_with_volume("Fabrikam", 173268, 2917, days=(date(2026, 5, 1), date(2026, 5, 2)))
    page = cs_client.get(reverse("storage_logs:cost")).content.decode()
    assert "<h1>Cost" in page
    assert "Fabrikamlogs" in page and "173,268" in page and "2,917" in page
    assert "$138,547" in page and "$2,332" in page and "98.3 %" in page


@pytest.mark.django_db
def test_the_cost_page_query_count_does_not_grow_with_devices(cs_client, django_assert_max_num_queries):
    device_with_volume("One", 10, 1)
    with django_assert_max_num_queries(8) as few:
        cs_client.get(reverse("storage_logs:cost"))
    for n in range(6):
        device_with_volume(f"Dev{n}", 10 + n, 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = cs_client.get(reverse("storage_logs:cost")).content.decode()
    assert page.count("<tr>") == 1 + 7


@pytest.mark.django_db
def test_analysts_do_not_see_cost(analyst_client):
    assert analyst_client.get(reverse("storage_logs:cost")).status_code == 403
