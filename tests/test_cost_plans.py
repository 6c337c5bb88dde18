"""Each plan priced from billed volumes: ingestion, commitment tiers, retention, Auxiliary's extra columns
and processing, and the cheapest way to keep what analysts need (storage_logs/cost.py, no database)."""

from datetime import date

import pytest

from storage_logs import billing, cost, plans
from storage_logs.cost import AccountVolume, Book, Rate, Stream

GB = 10**9
PRICES = {
    "analytics_ingestion": Rate("analytics_ingestion", 2.30, included_days=31),
    "basic_ingestion": Rate("basic_ingestion", 0.50, included_days=30),
    "basic_query": Rate("basic_query", 0.005),
    "auxiliary_ingestion": Rate("auxiliary_ingestion", 0.05, included_days=30),
    "auxiliary_processing": Rate("auxiliary_processing", 0.10),
    "auxiliary_query": Rate("auxiliary_query", 0.005),
    "interactive_retention": Rate("interactive_retention", 0.10),
    "long_term_retention": Rate("long_term_retention", 0.02),
}
TIERS = (
    Rate("commitment_tier", 196, included_days=31, tier_gb=100),
    Rate("commitment_tier", 368, included_days=31, tier_gb=200),
)


def book(**changes):
    return Book("East US", "eastus", "USD", date(2026, 12, 1), {**PRICES, **changes}, TIERS)


def account(raw_gb, aggregated_gb, retention=30, rows=0, overhead=0, incoming=0):
    return AccountVolume(
        1,
        "acct",
        Stream(raw_gb * GB, incoming * GB, rows, overhead),
        Stream(aggregated_gb * GB, 0, 0, 0),
        days=30,
        retention_days=retention,
    )


def row(result, key):
    return next(r for r in result.plans if r.key == key)


def test_analytics_ingestion_is_the_billed_gb_per_day_times_the_price_times_the_days_of_a_year():
    result = cost.report([account(10, 0.2)], book(), plans.plans(book()))
    analytics = row(result, cost.ANALYTICS)
    assert analytics.raw.ingestion_year == pytest.approx(10 * 2.30 * 365)
    assert analytics.raw.ingestion_month == pytest.approx(10 * 2.30 * 365 / 12)
    assert analytics.aggregated.ingestion_year == pytest.approx(0.2 * 2.30 * 365)
    assert analytics.reduction == pytest.approx(98.0)


def test_a_commitment_tier_bills_at_least_its_gb_at_its_own_rate_and_the_cheapest_tier_is_chosen():
    # 90 GB/day: the 100 GB tier (196 a day) is cheaper than 90 GB at 2.30 (207)
    alone = cost.plan_cost(cost.COMMITMENT, [account(90, 1)], book(), "raw")
    assert alone.ingestion_year == pytest.approx(196 * 365) and not alone.shared
    # 180 GB/day: the 100 GB tier with 80 GB overage at 1.96 beats paying for 200 GB at 1.84
    assert cost.best_tier(180, book()).tier_gb == 100
    large = cost.plan_cost(cost.COMMITMENT, [account(180, 1)], book(), "raw")
    assert large.ingestion_year == pytest.approx(180 * 1.96 * 365) and "with overage" in large.note
    assert cost.best_tier(195, book()).tier_gb == 200


def test_logs_too_small_for_a_tier_are_priced_at_its_rate_in_a_workspace_that_fills_it():
    small = cost.plan_cost(cost.COMMITMENT, [account(2, 0.1)], book(), "raw")
    assert small.ingestion_year == pytest.approx(2 * 1.96 * 365)
    assert small.shared and "in a workspace whose other data fills it" in small.note
    # such a rate is no way to keep the logs on their own: the options price them pay-as-you-go
    result = cost.report([account(2, 0.1)], book(), plans.plans(book()))
    assert result.options[0].year == pytest.approx(2 * 2.30 * 365)


def test_retention_beyond_the_included_days_is_priced_per_gb_kept_per_month():
    kept = account(2, 0.1, retention=400)
    analytics = cost.plan_cost(cost.ANALYTICS, [kept], book(), "raw")
    assert analytics.retention_month == pytest.approx(2 * (400 - 31) * 0.10)  # interactive up to two years
    assert analytics.retention_year == pytest.approx(2 * (400 - 31) * 0.10 * 12)
    basic = cost.plan_cost(cost.BASIC, [kept], book(), "raw")
    assert basic.retention_month == pytest.approx(2 * (400 - 30) * 0.02)  # Basic keeps only long-term
    years = cost.plan_cost(cost.ANALYTICS, [account(2, 0.1, retention=1000)], book(), "raw")
    assert years.retention_month == pytest.approx(2 * ((730 - 31) * 0.10 + (1000 - 730) * 0.02))
    assert cost.plan_cost(cost.ANALYTICS, [account(2, 0.1, retention=31)], book(), "raw").retention_month == 0


def test_auxiliary_bills_four_more_columns_per_row_and_processing_on_what_enters_the_rule():
    rows, overhead = 1_000_000, 200
    aux = cost.plan_cost(
        cost.AUXILIARY, [account(1, 0, rows=rows, overhead=overhead, incoming=1.5)], book(), "raw"
    )
    billed_gb = (1 * GB + rows * overhead) / GB
    assert aux.ingestion_year == pytest.approx((billed_gb * 0.05 + 1.5 * 0.10) * 365)


def test_the_auxiliary_row_overhead_is_the_resource_id_two_guids_and_the_table_name():
    resource_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
    raw = billing.auxiliary_row_overhead(resource_id, aggregated=False)
    assert raw == len(resource_id + "/blobServices/default") + 36 + 36 + len("StorageBlobLogs_CL")
    assert billing.auxiliary_row_overhead(resource_id, aggregated=True) == len(resource_id) + 72 + len(
        "AscmonStorageAggregates_CL"
    )


def test_the_cheapest_way_keeps_aggregates_in_analytics_and_raw_logs_searchable():
    result = cost.report(
        [account(10, 0.2, retention=90, rows=10**7, overhead=150, incoming=14)], book(), plans.plans(book())
    )
    by_label = {o.label: o for o in result.options}
    everything = by_label["Raw logs in Analytics (no aggregates)"]
    auxiliary = by_label["Aggregates in Analytics, raw logs in Auxiliary / data lake"]
    assert result.recommended is auxiliary
    assert auxiliary.year < by_label["Aggregates in Analytics, raw logs in Basic"].year < everything.year
    agg_analytics = row(result, cost.ANALYTICS).aggregated.total_year
    assert auxiliary.year == pytest.approx(agg_analytics + row(result, cost.AUXILIARY).raw.total_year)
    assert not by_label["Aggregates in Analytics, raw logs only in the storage account"].keeps_raw


def test_a_plan_without_a_price_in_the_book_is_shown_as_missing_not_as_free():
    missing = book(basic_ingestion=None)
    result = cost.report([account(1, 0.1)], missing, plans.plans(missing))
    assert row(result, cost.BASIC).raw is None and row(result, cost.BASIC).reduction is None
    basic_option = next(o for o in result.options if "Basic" in o.label)
    assert basic_option.year is None and not basic_option.cheapest


def test_each_plans_limits_line_carries_its_query_price_and_retention():
    lines = {key: limits for key, _, limits in plans.plans(book())}
    assert "Queries included" in lines[cost.ANALYTICS] and "31 days" in lines[cost.ANALYTICS]
    assert "0.005 USD per GB scanned" in lines[cost.BASIC] and "30 days" in lines[cost.BASIC]
    assert "0.005 USD per GB scanned" in lines[cost.AUXILIARY] and "no alerts" in lines[cost.AUXILIARY]
    assert "100 GB/day (196 USD a day)" in lines[cost.COMMITMENT]


def test_the_chart_draws_raw_and_aggregated_billed_volume_per_day_in_one_unit():
    from storage_logs.charts import billed_per_day
    from storage_logs.volumes import DayPoint

    points = [DayPoint(date(2026, 5, 1), 2 * GB, 20 * 10**6), DayPoint(date(2026, 5, 2), 0, 0)]
    figure = billed_per_day(points)
    raw, aggregated = figure["data"]
    assert raw["x"] == ["2026-05-01", "2026-05-02"] and raw["name"] == "raw logs, GB billed per day"
    assert raw["y"] == [2.0, None] and aggregated["y"] == [0.02, None]  # a quiet day is a gap on a log axis
    assert figure["layout"]["yaxis"]["type"] == "log"
    assert figure["layout"]["yaxis"]["title"]["text"] == "GB per day (log scale)"
    close = billed_per_day([DayPoint(date(2026, 5, 1), 2 * GB, GB)])
    assert "type" not in close["layout"]["yaxis"] and close["data"][1]["y"] == [1.0]
