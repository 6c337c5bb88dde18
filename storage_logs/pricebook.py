"""The price book as the cost page uses it: one price list's prices in effect on a day, as plain numbers.

All lists and their prices come in one query (lists are few, prices a few dozen each). For each item (and
each commitment tier) the price with the latest effective date not after the day applies. Without any
Analytics price, LOG_ANALYTICS_PRICE_PER_GB stands in (the setting of the seed's cost page).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from storage_logs.choices import PriceItem
from storage_logs.cost import Book, Rate
from storage_logs.models import Price

SETTING_SOURCE = "LOG_ANALYTICS_PRICE_PER_GB (environment variable)"


@dataclass(frozen=True)
class ListChoice:
    id: int
    label: str
    chosen: bool


def bytes_per_mb():
    """Microsoft bills GB of 10^9 bytes (cost-logs.md); the seed's table counted 1,024 MB of 2^20 bytes."""
    return 1024 * 1024 if settings.LOG_ANALYTICS_MB_PER_GB == 1024 else 1_000_000


def load(list_id=None, on=None):
    """(Book, [ListChoice]) for the chosen list (else the default one, else the first) on a day."""
    on = on or timezone.now().date()
    prices = list(Price.objects.select_related("price_list").filter(effective_from__lte=on))
    lists = {p.price_list_id: p.price_list for p in prices}
    chosen = lists.get(_int(list_id)) or next(
        iter(sorted(lists.values(), key=lambda pl: (not pl.is_default, pl.region, pl.currency))), None
    )
    choices = [
        ListChoice(pl.id, f"{pl.name} ({pl.region}, {pl.currency})", pl is chosen)
        for pl in sorted(lists.values(), key=lambda pl: (pl.region, pl.currency))
    ]
    return book_of(chosen, [p for p in prices if chosen and p.price_list_id == chosen.id], on), choices


def book_of(price_list, prices, on):
    current = {}
    for price in sorted(prices, key=lambda p: p.effective_from):
        current[(price.item, price.tier_gb_per_day)] = price
    rates = {item: rate(p) for (item, tier), p in current.items() if item != PriceItem.COMMITMENT_TIER}
    tiers = tuple(
        sorted((rate(p) for (item, _), p in current.items() if item == PriceItem.COMMITMENT_TIER),
               key=lambda r: r.tier_gb)
    )  # fmt: skip
    analytics = PriceItem.ANALYTICS_INGESTION
    if analytics not in rates:
        fallback = float(settings.LOG_ANALYTICS_PRICE_PER_GB)
        rates[analytics] = Rate(analytics, fallback, 31, source=SETTING_SOURCE)
    return Book(
        name=price_list.name if price_list else "LOG_ANALYTICS_PRICE_PER_GB",
        region=price_list.region if price_list else "",
        currency=price_list.currency if price_list else "USD",
        on=on,
        rates=rates,
        tiers=tiers,
        bytes_per_gb=int(settings.LOG_ANALYTICS_MB_PER_GB * bytes_per_mb()),
        bytes_per_mb=bytes_per_mb(),
        days_per_year=settings.LOG_ANALYTICS_DAYS_PER_YEAR,
        price_list_id=price_list.id if price_list else None,
    )


def rate(price):
    return Rate(
        item=price.item,
        amount=float(price.amount),
        included_days=price.included_retention_days,
        tier_gb=price.tier_gb_per_day,
        effective_from=price.effective_from,
        source=price.source,
        note=price.note,
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
