"""Billed volumes of a scope of storage accounts, measured from DailyVolume in a fixed number of queries.

The window is the last WINDOW_DAYS days up to the scope's latest complete day, from its first day with logs
if that is later (today's day, still being read, is drawn but not averaged, unless it is the only one).
A day stored before billed sizes were recorded (its billed bytes 0, its file bytes not) counts at its file
or export size, and the page says so.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, Count, F, Max, Min, Q, Sum, When
from django.utils import timezone

from storage_logs import billing
from storage_logs.cost import DEFAULT_RETENTION_DAYS, AccountVolume, Stream
from storage_logs.models import DailyVolume

WINDOW_DAYS = 90
MAX_RETENTION_DAYS = 4383  # twelve years, the longest total retention (data-retention-configure.md)


@dataclass(frozen=True)
class Window:
    start: object  # first day drawn and averaged
    end: object  # last day averaged
    latest: object  # last day drawn (today's day, while it is read)
    today: object = None

    @property
    def partial_day(self):
        """Today's day, still being read: drawn, and averaged only when it is the only day."""
        return self.latest if self.latest == self.today else None

    @property
    def averages_partial_day(self):
        return self.end == self.today


@dataclass(frozen=True)
class DayPoint:
    day: object
    raw: int  # billed bytes
    aggregated: int

    @property
    def reduction(self):
        return (1 - self.aggregated / self.raw) * 100 if self.raw else None


def billed(prefix, billed_field, file_field):
    """The day's billed bytes, or its file bytes for a day stored before billed sizes were recorded."""
    before = When(**{prefix + billed_field: 0}, then=F(prefix + file_field))
    return Case(before, default=F(prefix + billed_field))


def window(volumes):
    """The window of a DailyVolume queryset (None when it has no rows)."""
    today = timezone.now().date()
    found = volumes.aggregate(
        first=Min("day"), latest=Max("day"), complete=Max("day", filter=Q(day__lt=today))
    )
    if found["latest"] is None:
        return None
    end = found["complete"] or found["latest"]
    return Window(max(end - timedelta(days=WINDOW_DAYS - 1), found["first"]), end, found["latest"], today)


def with_volumes(accounts, window):
    """The accounts annotated with their sums over the window's averaged days."""
    prefix = "daily_volumes__"
    inside = Q(pk=None)  # no logs: every sum is empty
    if window:
        inside = Q(daily_volumes__day__gte=window.start, daily_volumes__day__lte=window.end)
    estimated = Q(daily_volumes__billable_bytes=0, daily_volumes__raw_bytes__gt=0) | Q(
        daily_volumes__aggregate_billable_bytes=0, daily_volumes__aggregate_bytes__gt=0
    )
    return accounts.annotate(
        raw_billed=Sum(billed(prefix, "billable_bytes", "raw_bytes"), filter=inside),
        raw_file=Sum(prefix + "raw_bytes", filter=inside),
        raw_rows=Sum(prefix + "raw_lines", filter=inside),
        agg_billed=Sum(billed(prefix, "aggregate_billable_bytes", "aggregate_bytes"), filter=inside),
        agg_export=Sum(prefix + "aggregate_bytes", filter=inside),
        agg_rows=Sum(prefix + "aggregate_records", filter=inside),
        first_day=Min(prefix + "day", filter=inside),
        estimated_days=Count(prefix + "id", filter=inside & estimated),
    )


def account_volume(account, window, retention=None):
    """An annotated account as an AccountVolume: its average day from its first day in the window."""
    days = (window.end - account.first_day).days + 1 if window and account.first_day else 0
    per_day = 1 / days if days else 0
    set_days = account.logging_retention_days or None
    return AccountVolume(
        account_id=account.pk,
        name=account.name,
        raw=Stream(
            (account.raw_billed or 0) * per_day,
            (account.raw_file or 0) * per_day,
            (account.raw_rows or 0) * per_day,
            billing.auxiliary_row_overhead(account.resource_id, aggregated=False),
        ),
        aggregated=Stream(
            (account.agg_billed or 0) * per_day,
            (account.agg_export or 0) * per_day,
            (account.agg_rows or 0) * per_day,
            billing.auxiliary_row_overhead(account.resource_id, aggregated=True),
        ),
        days=days,
        retention_days=retention or set_days or DEFAULT_RETENTION_DAYS,
        retention_set=bool(retention or set_days),
        estimated_days=account.estimated_days or 0,
    )


def day_points(volumes, window):
    """Billed bytes per day over the window, raw and aggregated, every day present (zero when quiet)."""
    if window is None:
        return []
    rows = (
        volumes.filter(day__gte=window.start, day__lte=window.latest)
        .values("day")
        .annotate(
            raw=Sum(billed("", "billable_bytes", "raw_bytes")),
            aggregated=Sum(billed("", "aggregate_billable_bytes", "aggregate_bytes")),
        )
    )
    by_day = {row["day"]: row for row in rows}
    points, day = [], window.start
    while day <= window.latest:
        row = by_day.get(day, {})
        points.append(DayPoint(day, row.get("raw") or 0, row.get("aggregated") or 0))
        day += timedelta(days=1)
    return points


def scope_volumes(accounts):
    """A DailyVolume queryset of the accounts (a queryset of StorageAccount)."""
    return DailyVolume.objects.filter(account__in=accounts)


def retention_override(value):
    """Days from the page's form, when they are a whole number of days Log Analytics can keep."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return None
    return days if 1 <= days <= MAX_RETENTION_DAYS else None
