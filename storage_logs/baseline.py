"""What a principal usually does: hourly series, percentiles and the plain summary line (no Django)."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)


@dataclass
class HourPoint:
    hour: datetime
    bytes_read: int = 0
    operations: dict = field(default_factory=dict)

    @property
    def operation_count(self):
        return sum(self.operations.values())


@dataclass(frozen=True)
class Baseline:
    days: int
    total_hours: int
    active_hours: int
    p95_bytes_per_hour: float
    median_bytes_per_hour: float
    max_bytes_per_hour: int
    total_bytes: int


def floor_hour(moment):
    return moment.replace(minute=0, second=0, microsecond=0)


def hourly_series(rows, start, end):
    """Rows of (hour, operation, bytes_read, count) → one HourPoint per hour in [start, end), zeros too."""
    points = {}
    hour = floor_hour(start)
    while hour < end:
        points[hour] = HourPoint(hour)
        hour += HOUR
    for row_hour, operation, bytes_read, count in rows:
        point = points.get(floor_hour(row_hour))
        if point is None:
            continue
        point.bytes_read += bytes_read or 0
        point.operations[operation] = point.operations.get(operation, 0) + (count or 0)
    return list(points.values())


def percentile(values, q):
    """Linear-interpolated percentile (q in 0..100) of `values`; 0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def baseline_of(series, days):
    """The usual hourly volume, over the hours in which the principal was active at all."""
    active = [point.bytes_read for point in series if point.operation_count]
    return Baseline(
        days=days,
        total_hours=len(series),
        active_hours=len(active),
        p95_bytes_per_hour=percentile(active, 95),
        median_bytes_per_hour=percentile(active, 50),
        max_bytes_per_hour=max(active, default=0),
        total_bytes=sum(active),
    )


def human_bytes(count):
    """Decimal units, as Defender writes them ("140 MB")."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            if unit == "B" or value >= 100:
                return f"{value:.0f} {unit}"
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def human_duration(delta):
    hours = delta.total_seconds() / 3600
    if hours >= 1:
        return f"{hours:.0f} h" if hours == int(hours) else f"{hours:.1f} h"
    return f"{max(1, round(delta.total_seconds() / 60))} min"


def first_seen_phrase(first_seen, now):
    days = (now.date() - first_seen.date()).days
    if days <= 0:
        return "first seen today"
    if days == 1:
        return "first seen yesterday"
    return f"first seen {days} days ago"


def byte_unit(count):
    """The decimal unit in which `count` bytes reads best, and its size: ("GB", 1e9)."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if count >= size:
            return unit, size
    return "B", 1


@dataclass(frozen=True)
class Comparison:
    """The alert window against one usual level. The summary line, the numbers and the charts all read
    this one object, so they cannot disagree."""

    window_bytes: int
    window: timedelta
    own: Baseline  # the principal's own history (or the account's, when the principal is not known)
    own_label: str
    reference: Baseline | None = None  # what the window is compared with; None when nothing has a level
    reference_label: str = ""

    @property
    def bytes_per_hour(self):
        return self.window_bytes / max(self.window.total_seconds() / 3600, 1)

    @property
    def usual_p95(self):
        return self.reference.p95_bytes_per_hour if self.reference else None

    @property
    def ratio(self):
        return self.bytes_per_hour / self.usual_p95 if self.usual_p95 else None

    @property
    def compared_with_account(self):
        return self.reference is not None and self.reference is not self.own


def compare(window_bytes, window, own, own_label, account=None, account_label="the whole account"):
    """Compare with the principal's own usual level; when it has none (never active, or active without
    moving a byte), with the whole account's."""
    if own.p95_bytes_per_hour > 0:
        return Comparison(window_bytes, window, own, own_label, own, own_label)
    if account is not None and account.p95_bytes_per_hour > 0:
        return Comparison(window_bytes, window, own, own_label, account, account_label)
    return Comparison(window_bytes, window, own, own_label)


def ratio_text(ratio):
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def summary_line(comparison, new_sightings=(), now=None, verb="read"):
    """E.g. "read 4.2 GB in 1 h; the usual hourly 95th percentile is 38 MB (110×); IP … first seen today"."""
    c = comparison
    parts = [f"{verb} {human_bytes(c.window_bytes)} in {human_duration(c.window)}"]
    if not c.own.active_hours:
        parts.append(f"no activity by {c.own_label} in the previous {c.own.days} days")
    elif not c.own.p95_bytes_per_hour:
        parts.append(
            f"{c.own_label} was active in {c.own.active_hours} hours of the previous {c.own.days} days "
            f"but {verb} nothing"
        )
    if c.reference is not None:
        usual = human_bytes(c.usual_p95)
        if c.compared_with_account:
            text = f"{c.reference_label} usually moves {usual} an hour at the 95th percentile"
        else:
            text = f"the usual hourly 95th percentile is {usual}"
        parts.append(f"{text} ({ratio_text(c.ratio)})")
    for kind, value, first_seen in new_sightings:
        parts.append(f"{kind} {value} {first_seen_phrase(first_seen, now)}")
    return "; ".join(parts)
