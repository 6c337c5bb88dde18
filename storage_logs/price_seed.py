"""The price book's first list: East US list prices in USD from docs/log-pricing.md, each with its source.

Microsoft's pricing page (azure.microsoft.com/pricing/details/monitor) is the authority and could not be
read when these were gathered: docs/log-pricing.md says which figures Microsoft's own documentation shows
and which come from secondary sources. Admins correct and add prices in the admin site; a later price with
a later effective date takes over from that day. Used by migration 0008 and by tests that flush the
database (plain data and a function of the two model classes, so the migration's models fit).
"""

from datetime import date
from decimal import Decimal

MS_COST_LOGS_2023 = (
    "learn.microsoft.com/azure/azure-monitor/logs/cost-logs, version of 2023-06-23 (MicrosoftDocs/azure-docs "
    "articles/azure-monitor/logs/cost-logs.md): PerGBPrice and CommitmentTier…Price in its pricing-tier query"
)
MS_RETENTION = (
    "learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure "
    "(MicrosoftDocs/azure-monitor-docs): 31 days included for Analytics, 30 days for Basic and Auxiliary"
)
MONITORINGCOST = "monitoringcost.com/azure-monitor-cost (Azure Monitor cost 2026)"
TOKESI = "tokesi.cloud/notes/26_03_28_dcr_data_processing_costs"
CHARBEL = "charbelnemnom.com/log-tiering-with-microsoft-sentinel-data-lake"
CLAES = "medium.com/@claes_tom, Azure Log Analytics cost optimization part 2: Analytics vs Basic vs Auxiliary"
CHECKED = date(2026, 12, 1)  # sources without a date: the day the figure was checked

LIST = {"name": "East US list prices", "region": "eastus", "currency": "USD", "is_default": True}
# (item, tier GB/day, amount, included retention days, effective from, source, note)
PRICES = [
    ("analytics_ingestion", 0, "2.30", 31, date(2023, 6, 23), f"{MS_COST_LOGS_2023}; {MONITORINGCOST}", ""),
    *(
        ("commitment_tier", gb, amount, 31, date(2023, 6, 23), MS_COST_LOGS_2023, "")
        for gb, amount in (
            (100, "196"),
            (200, "368"),
            (300, "540"),
            (400, "704"),
            (500, "865"),
            (1000, "1700"),
            (2000, "3320"),
            (5000, "8050"),
        )
    ),  # fmt: skip
    ("basic_ingestion", 0, "0.50", 30, date(2026, 3, 28), f"{TOKESI}; {MONITORINGCOST}; {MS_RETENTION}", ""),
    ("basic_query", 0, "0.005", 0, CHECKED, CLAES, "Microsoft's cost-logs.md: charged per GB scanned"),
    ("auxiliary_ingestion", 0, "0.05", 30, date(2026, 3, 28), f"{TOKESI}; {CHARBEL}; {MS_RETENTION}", ""),
    ("auxiliary_processing", 0, "0.10", 0, date(2026, 3, 28), f"{TOKESI}; {CHARBEL}", ""),
    ("auxiliary_query", 0, "0.005", 0, CHECKED, CLAES, "Microsoft's cost-logs.md: charged per GB scanned"),
    ("interactive_retention", 0, "0.10", 0, date(2026, 1, 1), MONITORINGCOST, "about; year of the source"),
    ("long_term_retention", 0, "0.02", 0, date(2026, 1, 1), MONITORINGCOST, "about; year of the source"),
]
SEED_ANALYTICS_PRICE = Decimal("2.30")


def seed(price_list_model, price_model, analytics_price=None):
    """Create the East US list unless it exists. `analytics_price` (LOG_ANALYTICS_PRICE_PER_GB when it was
    set to something else) replaces the pay-as-you-go figure, so an installation keeps the price it used."""
    price_list, created = price_list_model.objects.get_or_create(
        region=LIST["region"], currency=LIST["currency"], defaults=LIST
    )
    if not created:
        return price_list
    for item, tier, amount, included, effective, source, note in PRICES:
        if item == "analytics_ingestion" and analytics_price not in (None, SEED_ANALYTICS_PRICE):
            amount, source, note = analytics_price, "LOG_ANALYTICS_PRICE_PER_GB at installation", source
        price_model.objects.create(
            price_list=price_list, item=item, tier_gb_per_day=tier, amount=Decimal(amount),
            included_retention_days=included, effective_from=effective, source=source, note=note[:300],
        )  # fmt: skip
    return price_list
