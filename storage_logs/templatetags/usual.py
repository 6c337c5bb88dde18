from django import template

from storage_logs.context import context_for

register = template.Library()


@register.simple_tag
def usual_context(alert):
    """Decision support for a Storage.* alert: computed server-side, so it shows without a click or JS."""
    return context_for(alert)
