"""The Log Analytics plans the cost page compares, each with its limits in one line (no Django).

What each plan can do comes from Microsoft's documentation (docs/log-pricing.md: data-platform-logs.md
"Table plans", data-retention-configure.md, cost-logs.md); the prices in the lines come from the book.
"""

from storage_logs.cost import ANALYTICS, ANALYTICS_INTERACTIVE_MAX_DAYS, AUXILIARY, BASIC, COMMITMENT


def price(book, item, unit="per GB"):
    rate = book.rate(item)
    return f"{rate.amount:g} {book.currency} {unit}" if rate else "no price in the book"


def included(book, item):
    rate = book.rate(item)
    return rate.included_days if rate else 0


def plans(book):
    """(key, name, limits) of each plan, its prices taken from the book."""
    long_term = price(book, "long_term_retention", "per GB per month")
    tier = book.tiers[0] if book.tiers else None
    tiers = (
        f"tiers from {tier.tier_gb:,} GB/day ({tier.amount:,g} {book.currency} a day)" if tier else "no tiers"
    )
    return [
        (
            ANALYTICS,
            "Analytics, pay-as-you-go",
            f"Queries included; full KQL across tables, alerts, Insights, dashboards; "
            f"{included(book, 'analytics_ingestion')} days kept in the price, then "
            f"{price(book, 'interactive_retention', 'per GB per month')} interactive up to "
            f"{ANALYTICS_INTERACTIVE_MAX_DAYS // 365} years, {long_term} long-term up to 12 years.",
        ),
        (
            COMMITMENT,
            "Analytics, commitment tier",
            f"As Analytics; the workspace pays at least the tier's GB every day for 31 days once chosen, "
            f"overage at the tier's rate; {tiers}.",
        ),
        (
            BASIC,
            "Basic",
            f"Queries {price(book, 'basic_query', 'per GB scanned')}; KQL on one table (lookup into "
            f"Analytics tables), simple log alerts, no Insights; {included(book, 'basic_ingestion')} days "
            f"included, then {long_term} long-term up to 12 years (search jobs).",
        ),
        (
            AUXILIARY,
            "Auxiliary / Sentinel data lake",
            f"Queries {price(book, 'auxiliary_query', 'per GB scanned')}, slow; KQL on one table, no alerts "
            f"or export; custom tables fed by a data collection rule only "
            f"({price(book, 'auxiliary_processing')} processed); {included(book, 'auxiliary_ingestion')} "
            f"days included, then {long_term} long-term up to 12 years.",
        ),
    ]
