"""Searching the alert list for part of an IP address: exactly the alerts whose text holds it, newest first,
with the list's counts, on SQLite and on PostgreSQL, where such a search is read through the dotted index
(alerts/ip_search.py) and must show what the substring search shows."""

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts import ip_search, views
from alerts.choices import ChangeSource
from alerts.ingest import Ingester
from alerts.models import Alert, SuppressionRule
from tests.factories import raw_alert

FIRST = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SEVERITIES = ("Low", "High", "Medium", "Informational")


def ip_alert(n, *ips, minute=None, **fields):
    fields.setdefault("display_name", f"Alert {n}")
    return raw_alert(
        severity=SEVERITIES[n % 4],
        start=FIRST + timedelta(minutes=n if minute is None else minute),
        entities=[{"type": "ip", "address": ip} for ip in ips],
        **fields,
    )


@pytest.fixture
def fleet(contoso):
    """Alerts whose texts hold 10.1.7. in many ways, and some that come close."""
    SuppressionRule.objects.create(alert_type="VM_EICAR", reason="Test files")
    many_dots = [f"172.16.{i // 256}.{i % 256}" for i in range(340)]
    raws = [
        ip_alert(0, "10.1.7.3"),
        ip_alert(1, "10.1.70.2"),
        ip_alert(2, "110.1.7.3"),
        ip_alert(3, "10.1.8.7"),
        ip_alert(4, "192.0.2.10", display_name="Alert 4 seen from 10.1.7.200"),
        ip_alert(5, "192.0.2.11", compromised="10.1.7.9"),
        ip_alert(6, "10.17.1.7"),
        ip_alert(7, "192.0.2.12", display_name="Alert 7 v10.1.7.3-beta"),
        ip_alert(8, "10.1.7.5", *many_dots),  # more than 1,000 dots in one text
        ip_alert(9, "10.1.7.33", minute=0),  # the same time as alert 0: then severity, then id
        ip_alert(10, "10.1.7.1", alert_type="VM_EICAR"),  # suppressed
        ip_alert(11, "2001:db8::10.1.7.3"),
    ]
    Ingester(contoso, ChangeSource.IMPORT).ingest_page(raws)
    assert Alert.objects.get(display_name="Alert 8").search_text.count(".") > 1000


def holding(terms):
    """The visible alerts whose text holds `terms`, newest first (the list's order)."""
    found = [a for a in Alert.objects.visible() if terms in a.search_text]
    found.sort(key=lambda a: (a.time_generated, a.severity_rank, a.pk), reverse=True)
    return found


def shown(analyst_client, **params):
    """(alert ids on the page in order, the page's html, whether the dotted index was read)."""
    with CaptureQueriesContext(connection) as queries:
        response = analyst_client.get(reverse("alerts:list"), params, headers={"HX-Request": "true"})
    html = response.content.decode()
    sqls = [query["sql"] for query in queries.captured_queries]
    dotted = any("alert_dotted_keys" in sql and not sql.startswith("EXPLAIN") for sql in sqls)
    return [int(pk) for pk in re.findall(r'<tr id="alert-(\d+)">', html)], html, dotted


@pytest.fixture(params=["dotted index", "substring search"])
def way(request, monkeypatch):
    """Both ways PostgreSQL reads a dotted search (on SQLite both are the substring search)."""
    if request.param == "substring search":
        monkeypatch.setattr(ip_search, "FEW", -1)
    return request.param


SEARCHES = ["10.1.7.", "0.1.7.", ".7.3", "10.1.7", "1.7.3", "10.1.7.200", "10.9.9.9", "7."]


@pytest.mark.parametrize("terms", SEARCHES)
def test_an_ip_search_lists_exactly_the_alerts_holding_it_newest_first(fleet, analyst_client, way, terms):
    ids, html, dotted = shown(analyst_client, q=terms)
    expected = holding(terms)
    assert ids == [a.pk for a in expected]
    assert f"<strong>{len(expected)}</strong> alert" in html
    for label in SEVERITIES:
        assert f"{label}: {sum(a.severity == label.lower() for a in expected)}<" in html
    hidden = sum(terms in a.search_text for a in Alert.objects.suppressed())
    assert f">{hidden} hidden by suppression</a>" in html
    assert dotted == (way == "dotted index" and connection.vendor == "postgresql")


def test_an_ip_search_sorted_by_severity_keeps_the_list_order(fleet, analyst_client, way):
    ids, _, _ = shown(analyst_client, q="10.1.7", sort="severity")
    expected = sorted(holding("10.1.7"), key=lambda a: a.severity_rank)  # then newest first, as holding()
    assert ids == [a.pk for a in expected]


def test_past_the_search_cap_the_pages_of_an_ip_search_hold_every_match_once_in_order(
    fleet, analyst_client, way, monkeypatch
):
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    seen = []
    for number in (1, 2, 3, 4, 5):
        ids, html, _ = shown(analyst_client, q="10.1.7", page=number)
        assert "<strong>3+</strong> alerts" in html
        seen += ids
    assert seen == [a.pk for a in holding("10.1.7")]
    assert "Next →" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the dotted index is PostgreSQL's")
def test_the_dotted_keys_find_every_text_that_holds_a_dotted_search(db):
    rng = random.Random(7)
    texts = ["".join(rng.choices("0123456789....ab \n", k=rng.randrange(1, 160))) for _ in range(300)]
    texts += ["1.2." * 40 + "3", "9" * 70 + ".5", "." * 1001 + "8.8"]
    pairs = []
    for text in texts:
        for _ in range(10):
            start = rng.randrange(len(text))
            terms = text[start : start + rng.randrange(1, 80)].strip()
            if ip_search.DOTTED.fullmatch(terms) and len(terms) - terms.index(".") <= ip_search.KEY_LENGTH:
                pairs.append((text, terms))
    assert len(pairs) > 300
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t, q FROM unnest(%s::text[], %s::text[]) AS pair(t, q) WHERE NOT alert_dotted_keys(t) @@ "
            "(quote_literal(substr(q, strpos(q, '.'))) || ':* | many')::tsquery",
            [[t for t, _ in pairs], [q for _, q in pairs]],
        )
        assert cursor.fetchall() == []
