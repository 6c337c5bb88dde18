"""`{% plotly_scripts %}`: what a page with plotly figures loads, clean under the Content-Security-Policy."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join

from ascmon.staticfinders import PLOTLY_STATIC_PATH, plotly_style_ids

register = template.Library()


@register.simple_tag(takes_context=True)
def plotly_scripts(context):
    """The <style> elements plotly.js fills, with the page's nonce, then plotly.js and charts.js (which
    draws every <div data-figure> from its JSON)."""
    nonce = context["request"].csp_nonce
    styles = format_html_join(
        "", '<style id="{}" nonce="{}"></style>', ((i, nonce) for i in plotly_style_ids())
    )
    scripts = format_html(
        '<script defer src="{}"></script><script defer src="{}"></script>',
        static(PLOTLY_STATIC_PATH),
        static("ascmon/charts.js"),
    )
    return styles + scripts
