"""CSV exports of the cost tables, safe to open in a spreadsheet: names come from Azure and from people,
so a cell that would start a formula gets a leading apostrophe (alerts/export.py, OWASP's advice)."""

import csv
import io
from datetime import UTC, datetime

from django.http import HttpResponse
from django.utils.text import slugify

from alerts.export import neutralise


def response(rows, name):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[neutralise(cell) for cell in row] for row in rows])
    reply = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    reply["Content-Disposition"] = (
        f'attachment; filename="ascmon-cost-{slugify(name) or "scope"}-{stamp}.csv"'
    )
    return reply


def money(value):
    return "" if value is None else f"{value:.2f}"


def number(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


def plans(title, table):
    """The plan table: for each plan its ingestion, retention and total, raw against aggregated."""
    days = "/".join(str(d) for d in table["retention_days"]) or "-"
    rows = [
        [
            "scope", "plan", "cost", "raw per month", "raw per year", "aggregated per month",
            "aggregated per year", "reduction %", "currency", "note", "limits",
        ]
    ]  # fmt: skip
    for plan in table["plans"]:
        for part, label in (
            ("ingestion", "ingestion"),
            ("retention", f"retention, {days} days"),
            ("total", ""),
        ):
            rows.append(
                [
                    title,
                    plan.name,
                    label or part,
                    *cells(plan, part),
                    table["book"].currency,
                    *notes(plan, part),
                ]
            )
    return response(rows, title)


def cells(plan, part):
    figures = [money(getattr(kind, f"{part}_{period}", None)) for kind in (plan.raw, plan.aggregated)
               for period in ("month", "year")]  # fmt: skip
    return [*figures, number(plan.reduction, 1) if part == "total" else ""]


def notes(plan, part):
    if part != "ingestion":
        return ["", ""]
    missing = "no price in the price book" if plan.raw is None else ""
    return [plan.raw.note if plan.raw else missing, plan.limits]


def days(title, points, book):
    """The chart's numbers: billed MB per day, raw and aggregated."""
    rows = [["scope", "day", "raw billed MB", "aggregated billed MB", "reduction %"]]
    for point in points:
        rows.append(
            [
                title,
                point.day.isoformat(),
                number(point.raw / book.bytes_per_mb),
                number(point.aggregated / book.bytes_per_mb),
                number(point.reduction, 1),
            ]
        )
    return response(rows, f"{title}-days")


def overview(rows, book):
    """One line per device, as the overview table shows it."""
    lines = [
        [
            "device", "storage accounts", "raw billed MB per day", "aggregated billed MB per day",
            "Analytics ingestion per year, raw", "Analytics ingestion per year, aggregated", "reduction %",
            "cheapest way to keep what analysts need", "its cost per year", "currency",
        ]
    ]  # fmt: skip
    for row in rows:
        best = row["recommended"]
        lines.append(
            [
                row["device"].name,
                "; ".join(account.name for account in row["accounts"]),
                number(row["raw_mb"]),
                number(row["aggregated_mb"]),
                money(row["raw_year"]),
                money(row["aggregated_year"]),
                number(row["reduction"], 1),
                best.label if best else "",
                money(best.year) if best else "",
                book.currency,
            ]
        )
    return response(lines, "devices")
