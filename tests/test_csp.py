"""Every response carries the Content-Security-Policy, and no template relies on what it refuses: inline
scripts, inline event handlers, style attributes or <style> without the page's nonce."""

import re
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FORBIDDEN_IN_TEMPLATES = {
    "an inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "a <style> without the nonce": re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def named_patterns(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from named_patterns(pattern.url_patterns, inner)
        elif pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern.pattern


def sample_url(name, pattern):
    """The URL with placeholder arguments (the object may not exist: a 404 carries the header too)."""
    converters = getattr(pattern, "converters", {})
    kwargs = {
        group: "auth"
        if group == "app_label"
        else 1
        if isinstance(converters.get(group), IntConverter)
        else "1"
        for group in pattern.regex.groupindex
    }
    return reverse(name, kwargs=kwargs)


EVERY_URL = sorted({sample_url(*found) for found in named_patterns(get_resolver().url_patterns)})


def policy(response):
    return dict(
        (directive.split(" ", 1) + [""])[:2] for directive in response["Content-Security-Policy"].split("; ")
    )


def test_the_policy_allows_no_inline_script_style_or_eval(analyst_client):
    directives = policy(analyst_client.get(reverse("alerts:list")))
    for name in ("script-src", "style-src"):
        assert directives[name].split()[0] == "'self'"
        assert "unsafe" not in directives[name]
    assert directives["object-src"] == directives["base-uri"] == directives["frame-ancestors"] == "'none'"


def test_every_url_answers_with_the_policy(admin_client_):
    assert len(EVERY_URL) > 100
    missing, failed = [], []
    for url in EVERY_URL:
        response = admin_client_.get(url)
        if response.status_code >= 500:
            failed.append(url)
        if "Content-Security-Policy" not in response:
            missing.append((url, response.status_code))
    assert not missing
    assert not failed


def test_the_login_page_answers_with_the_policy(client, db):
    assert "script-src 'self'" in client.get(reverse("login"))["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_has_inline_script_handlers_or_styles(path):
    text = path.read_text()
    found = {what: pattern.findall(text) for what, pattern in FORBIDDEN_IN_TEMPLATES.items()}
    assert not {what: hits for what, hits in found.items() if hits}
