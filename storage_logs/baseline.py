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


def summary_line(window_bytes, window, baseline, new_sightings=(), now=None):
    """E.g. "read 4.2 GB in 1 h; the usual hourly 95th percentile is 38 MB (110×); IP … first seen today"."""
    parts = [f"read {human_bytes(window_bytes)} in {human_duration(window)}"]
    if baseline.active_hours:
        usual = baseline.p95_bytes_per_hour
        hours = max(window.total_seconds() / 3600, 1)
        ratio = (window_bytes / hours) / usual if usual else None
        text = f"the usual hourly 95th percentile is {human_bytes(usual)}"
        if ratio is not None:
            text += f" ({ratio:,.0f}×)" if ratio >= 10 else f" ({ratio:.1f}×)"
        parts.append(text)
    else:
        parts.append(f"no activity by this principal in the previous {baseline.days} days")
    for kind, value, first_seen in new_sightings:
        parts.append(f"{kind} {value} {first_seen_phrase(first_seen, now)}")
    return "; ".join(parts)


def ratio_to_usual(window_bytes, window, baseline):
    hours = max(window.total_seconds() / 3600, 1)
    if not baseline.p95_bytes_per_hour:
        return None
    return (window_bytes / hours) / baseline.p95_bytes_per_hour
