"""A scope's cost table as plain values: what templates/storage_logs/_cost_table.html shows, on the cost
pages and on the device page, and what the CSV export writes. Three queries: the price book, the scope's
window, its accounts with their sums (storage_logs/volumes.py)."""

from django.urls import reverse

from storage_logs import cost, plans, pricebook, volumes
from storage_logs.choices import UNITS, PriceItem

TREND_DAYS = 30


def scope_table(accounts, book, retention=None):
    """The cost table of a queryset of storage accounts, priced with a Book."""
    win = volumes.window(volumes.scope_volumes(accounts))
    measured = [volumes.account_volume(a, win, retention) for a in volumes.with_volumes(accounts, win)]
    return table(cost.report(measured, book, plans.plans(book)), book, win)


def device_table(device, list_id=None, retention=None):
    """The device page's cost table: the device's accounts priced with the chosen or default list."""
    book, _ = pricebook.load(list_id)
    result = scope_table(device.storage_accounts.all(), book, retention)
    result["detail_url"] = reverse("storage_logs:device_cost", args=[device.pk])
    result["export_url"] = reverse("storage_logs:device_cost_export", args=[device.pk])
    return result


def table(report, book, win):
    raw = sum(a.raw.billed for a in report.accounts)
    aggregated = sum(a.aggregated.billed for a in report.accounts)
    baseline = report.options[0]
    best = report.recommended
    return {
        "book": book,
        "window": win,
        "raw_mb": raw / book.bytes_per_mb,
        "aggregated_mb": aggregated / book.bytes_per_mb,
        "reduction": cost.reduction(raw, aggregated),
        "plans": report.plans,
        "options": report.options,
        "recommended": best,
        "saving": baseline.year - best.year if best and baseline.year is not None else None,
        "accounts": [account_row(a, book) for a in report.accounts],
        "retention_days": sorted({a.retention_days for a in report.accounts}),
        "retention_assumed": any(not a.retention_set for a in report.accounts),
        "default_retention": cost.DEFAULT_RETENTION_DAYS,
        "estimated_days": sum(a.estimated_days for a in report.accounts),
        "has_logs": bool(raw or aggregated),
        "prices": price_rows(book),
    }


def account_row(volume, book):
    return {
        "name": volume.name,
        "url": reverse("storage_logs:account_cost", args=[volume.account_id]),
        "raw_mb": volume.raw.billed / book.bytes_per_mb,
        "aggregated_mb": volume.aggregated.billed / book.bytes_per_mb,
        "reduction": volume.reduction,
        "days": volume.days,
        "retention_days": volume.retention_days,
        "retention_set": volume.retention_set,
    }


def price_rows(book):
    """Every price the table used, with its unit, date and source (the price book's own words)."""
    rates = [book.rates[item] for item in PriceItem.values if item in book.rates]
    rates[1:1] = list(book.tiers)
    return [
        {
            "label": PriceItem(rate.item).label + (f", {rate.tier_gb:,} GB/day" if rate.tier_gb else ""),
            "amount": rate.amount,
            "unit": UNITS[rate.item],
            "included_days": rate.included_days,
            "effective_from": rate.effective_from,
            "source": rate.source,
            "note": rate.note,
        }
        for rate in rates
    ]


def trend(points, win):
    """Percent change of the last TREND_DAYS days against the TREND_DAYS before, raw and aggregated."""
    complete = [p for p in points if p.day <= win.end] if win else []
    if len(complete) < 2 * TREND_DAYS:
        return None
    last, before = complete[-TREND_DAYS:], complete[-2 * TREND_DAYS : -TREND_DAYS]

    def change(kind):
        now, then = sum(getattr(p, kind) for p in last), sum(getattr(p, kind) for p in before)
        return (now / then - 1) * 100 if then else None

    return {"raw": change("raw"), "aggregated": change("aggregated"), "days": TREND_DAYS}
