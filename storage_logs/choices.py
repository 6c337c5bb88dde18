"""What the price book prices (docs/log-pricing.md): each item with its label and the unit of its amount."""

from django.db import models


class PriceItem(models.TextChoices):
    ANALYTICS_INGESTION = "analytics_ingestion", "Analytics logs: ingestion, pay-as-you-go"
    COMMITMENT_TIER = "commitment_tier", "Analytics logs: commitment tier"
    BASIC_INGESTION = "basic_ingestion", "Basic logs: ingestion"
    BASIC_QUERY = "basic_query", "Basic logs: queries"
    AUXILIARY_INGESTION = "auxiliary_ingestion", "Auxiliary logs / Sentinel data lake: ingestion"
    AUXILIARY_PROCESSING = "auxiliary_processing", "Auxiliary logs / Sentinel data lake: data processing"
    AUXILIARY_QUERY = "auxiliary_query", "Auxiliary logs / Sentinel data lake: queries"
    INTERACTIVE_RETENTION = "interactive_retention", "Analytics retention beyond the included days"
    LONG_TERM_RETENTION = "long_term_retention", "Long-term retention"


UNITS = {
    PriceItem.ANALYTICS_INGESTION: "per GB ingested",
    PriceItem.COMMITMENT_TIER: "per day for the tier's GB per day",
    PriceItem.BASIC_INGESTION: "per GB ingested",
    PriceItem.BASIC_QUERY: "per GB scanned",
    PriceItem.AUXILIARY_INGESTION: "per GB ingested",
    PriceItem.AUXILIARY_PROCESSING: "per GB entering the data collection rule",
    PriceItem.AUXILIARY_QUERY: "per GB scanned",
    PriceItem.INTERACTIVE_RETENTION: "per GB per month",
    PriceItem.LONG_TERM_RETENTION: "per GB per month",
}
# Ingestion prices include some days of retention (the price's own field says how many).
INGESTION_ITEMS = (
    PriceItem.ANALYTICS_INGESTION,
    PriceItem.COMMITMENT_TIER,
    PriceItem.BASIC_INGESTION,
    PriceItem.AUXILIARY_INGESTION,
)
