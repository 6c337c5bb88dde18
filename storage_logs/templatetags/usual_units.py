"""Filters that write decision-support numbers in human units; they format values, never query."""

from django import template

from storage_logs import baseline

register = template.Library()


@register.filter
def human_bytes(count):
    """4213456789 -> "4.2 GB" (decimal units, as Defender writes them)."""
    return baseline.human_bytes(count or 0)


@register.filter
def ratio(value):
    return baseline.ratio_text(value)
