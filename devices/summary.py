"""The top of the device page: health by severity, last sync, ingestion lag, alerts of the last 7 days."""

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from devices import ingestion
from devices.charts import day_bars
from devices.choices import SEVERITY_COLOURS, Severity

ALERT_DAYS = 7


def health(findings):
    """(label, colour, count) per severity, worst first, from the open findings."""
    counts = {value: 0 for value in Severity.values}
    for finding in findings:
        counts[finding.severity] += 1
    return [(Severity(value).label, SEVERITY_COLOURS[value], counts[value]) for value in Severity.values]


def alerts_per_day(device, now):
    """[(date, visible alerts generated that day)] for the last ALERT_DAYS days, oldest first (one query)."""
    from alerts.models import Alert

    today = timezone.localdate(now)
    first = today - timedelta(days=ALERT_DAYS - 1)
    rows = (
        Alert.objects.visible()
        .filter(device=device, time_generated__date__gte=first)
        .annotate(day=TruncDate("time_generated"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [(day, counts.get(day, 0)) for day in (first + timedelta(days=n) for n in range(ALERT_DAYS))]


def summary(device, open_findings, now=None):
    now = now or timezone.now()
    until = ingestion.logs_until(device)
    days = alerts_per_day(device, now)
    return {
        "health": health(open_findings),
        "logs_until": until,
        "lag": ingestion.lag(until, now),
        "stale": device.is_stale(now),
        "alert_days": days,
        "alerts_total": sum(n for _, n in days),
        "alert_bars": day_bars(days),
    }
