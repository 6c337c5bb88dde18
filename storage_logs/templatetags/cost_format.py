"""Filters that write cost figures: money in the price list's currency, volumes in MB. They format values,
never query."""

from django import template

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@register.filter
def money(value, currency="USD"):
    """138546.7 -> "$138,547"; 0.42 -> "$0.42"; 1234 in CHF -> "1,234 CHF"; None -> "—"."""
    if value is None or value == "":
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.filter
def price(value):
    """A price as the price book holds it: 2.3 -> "2.30", 0.005 -> "0.005", 1700 -> "1,700"."""
    if value >= 100 and value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.4f}".rstrip("0") if round(value, 2) != value else f"{value:,.2f}"


@register.filter
def megabytes(value):
    """173268.0 -> "173,268"; 12.34 -> "12.3"; 0.0421 -> "0.042"."""
    if value is None:
        return "—"
    if value >= 100 or value == 0:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 1 else f"{value:.3f}"


@register.filter
def percent(value):
    """98.317 -> "98.3 %"; None -> "—"."""
    return "—" if value is None else f"{value:.1f} %"


@register.filter
def change(value):
    """12.04 -> "+12.0 %"; -3 -> "−3.0 %"."""
    if value is None:
        return "—"
    return f"+{value:.1f} %" if value >= 0 else f"−{-value:.1f} %"


@register.filter
def mb_of(count, book):
    """Bytes as MB in the price book's convention (LOG_ANALYTICS_MB_PER_GB)."""
    return megabytes(count / book.bytes_per_mb)
