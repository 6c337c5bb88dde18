"""How far behind storage-log ingestion is, per device: the end of the newest log window stored for any of
its accounts (storage_logs' aggregates), or the newest record ingestion noted on the device itself."""

from django.apps import apps
from django.db.models import DateTimeField, F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone


def newest_log_window():
    """An expression for a Device queryset: the newest log time ingested for the device, or None."""
    try:
        aggregates = apps.get_model("storage_logs", "LogAggregate")
    except LookupError:
        return F("logs_ingested_until")
    newest = (
        aggregates.objects.filter(account__device=OuterRef("pk"))
        .order_by()
        .values("account__device")
        .annotate(until=Max("window_end"))
        .values("until")
    )
    return Coalesce(Subquery(newest[:1], output_field=DateTimeField()), F("logs_ingested_until"))


def logs_until(device):
    """The newest log time ingested for one device (one query), or None when no log arrived yet."""
    newest = type(device).objects.filter(pk=device.pk).annotate(until=newest_log_window())
    until = newest.values_list("until", flat=True).first()
    return max(filter(None, (until, device.logs_ingested_until)), default=None)


def lag(until, now=None):
    """How long ago the newest ingested log was written (None: no logs yet)."""
    return (now or timezone.now()) - until if until else None
