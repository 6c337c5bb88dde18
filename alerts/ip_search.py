"""Searches that look like part of an IP address ("198.51.7."), on PostgreSQL, when few alerts match.

The list asks the trigram index (migration 0012) twice, for its capped count and for its page, and the
trigrams of such a search are in nearly every alert's IP: at a million alerts each scan read ~1,800 pages
of posting lists (~30 ms). The dotted index (migration 0014) finds the same candidates in a dozen pages,
and `strpos(search_text, terms) > 0`, which is `search_text LIKE '%terms%'` without the trigram index's
part in the plan, keeps the ones that hold the search: the same alerts, counted by the same capped query.
The page reads every match once and sorts them: given ORDER BY ... LIMIT and a right estimate, PostgreSQL
walks the time index instead, ~13,000 rows for a page of 50. A broad search ("198.51.") keeps the usual
queries: PostgreSQL's estimate of the candidates decides, before reading any.
"""

import json
import re

from django.db import connection
from django.db.models import F, Func, Lookup, TextField, Value
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan

from alerts.forms import search_terms
from alerts.models import Alert

DOTTED = re.compile(r"[0-9]*\.[0-9.]*")
KEY_LENGTH = 64  # alert_dotted_keys() keeps this much of each key
# Read at most this many matches for a page (3,906 took 11 ms at a million alerts); more keep the usual page.
FEW = 10_000
# What the page of matches can be ordered by: the list's time and severity orders.
ORDER_FIELDS = ("id", "severity_rank", "time_generated")


class DottedKeys(Func):
    """alert_dotted_keys(search_text), the dotted index's expression (a tsvector)."""

    function = "alert_dotted_keys"
    output_field = TextField()


class Matches(Lookup):
    """tsvector @@ tsquery: the operator the dotted index answers."""

    lookup_name = "matches"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ {rhs}::tsquery", (*lhs_params, *rhs_params)


def dotted_tail(terms):
    """The search's part from its first dot, which the dotted index can look up, or None."""
    if connection.vendor != "postgresql" or not DOTTED.fullmatch(terms):
        return None
    tail = terms[terms.index(".") :]
    return tail if len(tail) <= KEY_LENGTH else None


def candidates(alerts, terms):
    """Alerts with a dotted key that starts with the search's tail (and the ones indexed as 'many'): every
    alert whose text holds the search, and some whose digits before the first dot differ."""
    query = f"'{dotted_tail(terms)}':* | 'many'"  # digits and dots only, so nothing to quote
    return alerts.filter(Matches(DottedKeys(F("search_text")), Value(query)))


def dotted_matches(form, ordering):
    """The alerts the list's filters match, found through the dotted index, when the search looks like part
    of an IP address and PostgreSQL expects at most FEW candidates; else None (the list's usual queries).
    Suppressed alerts alone have a small trigram index of their own (migration 0013)."""
    terms = search_terms(form.cleaned_data.get("q", ""))
    suppressed_only = form.cleaned_data.get("suppressed") == "only"
    if dotted_tail(terms) is None or suppressed_only or not replayable(ordering):
        return None
    found = form.filter(Alert.objects.all(), text_search=candidates).order_by()
    if planned_rows(found) > FEW:
        return None
    return found.filter(GreaterThan(StrIndex("search_text", Value(terms)), 0))


def replayable(ordering):
    return all(field.lstrip("-") in ORDER_FIELDS for field in ordering)


def planned_rows(queryset):
    """PostgreSQL's estimate of the rows `queryset` returns (EXPLAIN: planned, not run)."""
    plan = json.loads(queryset.explain(format="json"))
    return (plan[0] if isinstance(plan, list) else plan)["Plan"]["Plan Rows"]


class DottedRows:
    """The matches in list order, for the paginator: a slice reads every match once (at most FEW + 1, kept
    apart so ORDER BY ... LIMIT cannot walk the time index instead) and orders them, then loads its page.
    Past FEW matches (the estimate was wrong) the slice comes from the list's usual query, `rows`."""

    def __init__(self, matches, ordering, rows):
        self.matches, self.ordering, self.rows = matches, ordering, rows

    def __getitem__(self, index):
        found, ids = page_ids(self.matches, self.ordering, index)
        if found > FEW:
            return list(self.rows[index])
        alerts = Alert.objects.for_list().in_bulk(ids)
        return [alerts[pk] for pk in ids]


def page_ids(matches, ordering, index):
    """(how many matches there are, up to FEW + 1; ids of the ones in `index`, a slice, in `ordering`)."""
    sql, params = matches.values(*ORDER_FIELDS)[: FEW + 1].query.sql_with_params()
    order = ", ".join(f"{name.lstrip('-')} {'DESC' if name.startswith('-') else 'ASC'}" for name in ordering)
    statement = (
        f"WITH hits AS MATERIALIZED ({sql}) SELECT (SELECT COUNT(*) FROM hits),"  # noqa: S608
        f" ARRAY(SELECT id FROM hits ORDER BY {order} LIMIT %s OFFSET %s)"  # columns: ORDER_FIELDS only
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, (*params, index.stop - index.start, index.start))
        return cursor.fetchone()
