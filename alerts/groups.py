"""Alerts grouped by what ties them together: the same correlation key, or the same entity. Each group
links to the list filtered to it (an exact-match pivot), where the analyst can triage it in bulk."""

from django.db.models import Count, Max, Min
from django.shortcuts import render

from alerts.models import Alert, AlertEntity
from alerts.normalize import SEVERITIES
from ascmon.roles import ANALYST, role_required

SHOWN = 200
BY = {"correlation": "Correlation key", "entity": "Entity"}


def by_correlation():
    return list(
        Alert.objects.visible()
        .exclude(correlation_key="")
        .values("correlation_key")
        .annotate(
            alerts=Count("id"),
            devices=Count("device", distinct=True),
            worst=Max("severity_rank"),
            first=Min("time_generated"),
            last=Max("time_generated"),
            example=Min("display_name"),
        )
        .filter(alerts__gte=2)
        .order_by("-last")[:SHOWN]
    )


def by_entity():
    return list(
        AlertEntity.objects.filter(alert__suppressed_by__isnull=True, alert__duplicate_of__isnull=True)
        .values("kind", "value")
        .annotate(
            alerts=Count("alert", distinct=True),
            devices=Count("alert__device", distinct=True),
            worst=Max("alert__severity_rank"),
            first=Min("alert__time_generated"),
            last=Max("alert__time_generated"),
            example=Min("alert__display_name"),
        )
        .filter(alerts__gte=2)
        .order_by("-alerts", "-last")[:SHOWN]
    )


@role_required(ANALYST)
def alert_groups(request):
    by = request.GET.get("by") if request.GET.get("by") in BY else "correlation"
    groups = by_correlation() if by == "correlation" else by_entity()
    severity = {rank: name for name, rank in SEVERITIES.items()}
    for group in groups:
        group["severity"] = severity.get(group["worst"], "informational")
    return render(request, "alerts/groups.html", {"by": by, "choices": BY, "groups": groups})
