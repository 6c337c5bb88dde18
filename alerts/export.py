"""CSV export of the filtered alert list, streamed, and safe to open in a spreadsheet.

Alert text comes from Azure and is attacker-controlled: a cell starting with = + - @ (or a tab or carriage
return) would run as a formula in Excel or LibreOffice, so such cells get a leading apostrophe (OWASP's
advice for CSV injection).
"""

import csv
from datetime import UTC, datetime

from django.http import StreamingHttpResponse
from django.urls import reverse

from ascmon.roles import ANALYST, role_required

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    ("id", lambda a: a.pk),
    ("generated (UTC)", lambda a: a.time_generated.isoformat() if a.time_generated else ""),
    ("severity", lambda a: a.severity),
    ("alert", lambda a: a.display_name),
    ("alert type", lambda a: a.alert_type),
    ("device", lambda a: a.device.name),
    ("subscription", lambda a: a.subscription_id),
    ("compromised entity", lambda a: a.compromised_entity),
    ("product", lambda a: a.product_name),
    ("Azure status", lambda a: a.status),
    ("triage status", lambda a: a.triage_status),
    ("assignee", lambda a: a.assignee.username if a.assignee else ""),
    ("classification", lambda a: a.classification),
    ("determination", lambda a: a.determination),
    ("correlation key", lambda a: a.correlation_key),
    ("suppressed by rule", lambda a: a.suppressed_by_id or ""),
)


def neutralise(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Echo:
    """A file-like object whose write returns the line, for csv.writer in a streaming response."""

    def write(self, value):
        return value


def rows(alerts, base_url):
    writer = csv.writer(Echo())
    yield writer.writerow([name for name, _ in COLUMNS] + ["link"])
    for alert in alerts.iterator(chunk_size=2000):
        cells = [neutralise(value(alert)) for _, value in COLUMNS]
        yield writer.writerow(cells + [f"{base_url}{reverse('alerts:detail', args=[alert.pk])}"])


@role_required(ANALYST)
def export_csv(request):
    from alerts.views import filtered

    _, alerts, ordering = filtered(request.GET)
    alerts = alerts.select_related("device", "assignee").order_by(*ordering)
    response = StreamingHttpResponse(
        rows(alerts, request.build_absolute_uri("/")[:-1]), content_type="text/csv"
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ascmon-alerts-{stamp}.csv"'
    return response
