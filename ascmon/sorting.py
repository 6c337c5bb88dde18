"""Sortable column headers, one convention for every table.

A sort value is a column key, or the key with a leading "-" for descending. A column's first click sorts
it in its natural direction (newest or most severe first for times and severities, A to Z for names);
clicking the column that is sorted already reverses it.
"""

from dataclasses import dataclass

ASCENDING, DESCENDING = "ascending", "descending"


@dataclass(frozen=True)
class SortLink:
    """One column header: the sort value its link sets, and its aria-sort state now."""

    value: str
    aria_sort: str = "none"

    def __str__(self):
        return self.value


def sort_links(current, natural):
    """{key: SortLink} for the columns in `natural` ({key: ASCENDING or DESCENDING})."""
    links = {}
    for key, direction in natural.items():
        if current.lstrip("-") == key:
            now = DESCENDING if current.startswith("-") else ASCENDING
            links[key] = SortLink(key if now == DESCENDING else f"-{key}", now)
        else:
            links[key] = SortLink(f"-{key}" if direction == DESCENDING else key)
    return links
