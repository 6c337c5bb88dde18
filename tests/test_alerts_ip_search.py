"""Searching the alert list for part of an IP address on PostgreSQL: the dotted index (migration 0014,
alerts/ip_search.py) must find every alert whose text holds such a search."""

import random

import pytest
from django.db import connection

from alerts import ip_search


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
