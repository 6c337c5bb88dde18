"""How far behind storage-log ingestion is, per device: every hour before the slowest of its accounts'
`read_until` (storage_logs.AccountIngest) has been read, so the device's logs are complete up to there.
A device without ingested accounts falls back to the time ingestion noted on the device itself."""

from django.apps import apps
from django.db.models import DateTimeField, F, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone


def logs_read_until():
    """An expression for a Device queryset: until when all its storage logs are read, or None."""
    try:
        ingests = apps.get_model("storage_logs", "AccountIngest")
    except LookupError:
        return F("logs_ingested_until")
    slowest = (
        ingests.objects.filter(account__device=OuterRef("pk"), read_until__isnull=False)
        .order_by()
        .values("account__device")
        .annotate(until=Min("read_until"))
        .values("until")
    )
    return Coalesce(Subquery(slowest[:1], output_field=DateTimeField()), F("logs_ingested_until"))


def logs_until(device):
    """Until when one device's storage logs are read (one query), or None when none was read yet."""
    newest = type(device).objects.filter(pk=device.pk).annotate(until=logs_read_until())
    return newest.values_list("until", flat=True).first()


def lag(until, now=None):
    """How far the logs read trail the present (None: no logs yet)."""
    return (now or timezone.now()) - until if until else None
