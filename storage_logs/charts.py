"""Plotly figures as plain dicts (tested as dicts; the page draws them with the static plotly.js).

Bytes are drawn in one decimal unit chosen for the data (MB, GB...), named on the axis: plotly's own SI
ticks would write a billion bytes as "1B".
"""

import html

from storage_logs.baseline import HOUR, byte_unit

READ_COLOUR = "#1f5fbf"
USUAL_COLOUR = "#b42318"
WINDOW_COLOUR = "rgba(180, 35, 24, 0.15)"
OPERATION_COLOURS = ["#1f5fbf", "#067647", "#b54708", "#7a5af8", "#475467", "#b42318", "#0e9384"]
# The zoomed panel shows the alert window with this much of the day before it.
ZOOM_BEFORE = 24 * HOUR


def _layout(title, y_title):
    return {
        "title": {"text": title, "font": {"size": 14}},
        "margin": {"l": 60, "r": 10, "t": 40, "b": 40},
        "height": 280,
        "xaxis": {"type": "date"},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero", "exponentformat": "none"},
        "showlegend": True,
        "legend": {"orientation": "h"},
        "plot_bgcolor": "#fff",
    }


def window_shape(window_start, window_end):
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": window_start.isoformat(),
        "x1": window_end.isoformat(),
        "y0": 0,
        "y1": 1,
        "fillcolor": WINDOW_COLOUR,
        "line": {"width": 0},
        "layer": "below",
    }


def bytes_per_hour(series, window_start, window_end, comparison, title="Bytes read per hour", verb="read"):
    """Bars of bytes per hour in a human unit, the alert window shaded, and the usual level the
    comparison uses as a dashed line."""
    usual = comparison.usual_p95
    unit, size = byte_unit(max([p.bytes_read for p in series] + [usual or 0]))
    hours = [point.hour.isoformat() for point in series]
    figure = {
        "data": [
            {
                "type": "bar",
                "name": f"{unit} {verb} per hour",
                "x": hours,
                "y": [round(point.bytes_read / size, 3) for point in series],
                "marker": {"color": READ_COLOUR},
                "hovertemplate": f"%{{x}}<br>%{{y}} {unit}<extra></extra>",
            }
        ],
        "layout": _layout(title, f"{unit} per hour"),
    }
    figure["layout"]["shapes"] = [window_shape(window_start, max(window_end, window_start + HOUR))]
    if usual is not None and series:
        figure["data"].append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"usual hourly 95th percentile ({comparison.reference_label})",
                "x": [hours[0], hours[-1]],
                "y": [round(usual / size, 3)] * 2,
                "line": {"color": USUAL_COLOUR, "dash": "dash"},
            }
        )
    return figure


def around_window(series, window_start, window_end, comparison, verb="read"):
    """The same bars zoomed on the alert window and the day before it, so a short spike is not one pixel
    at the edge of a two-week axis."""
    near = [point for point in series if point.hour >= window_start - ZOOM_BEFORE]
    return bytes_per_hour(near, window_start, window_end, comparison, "Around the alert window", verb)


def operations_per_hour(series, window_start, window_end):
    """Stacked bars of operations per hour by operation type."""
    names = sorted({name for point in series for name in point.operations})
    hours = [point.hour.isoformat() for point in series]
    figure = {
        "data": [
            {
                "type": "bar",
                "name": html.escape(name),  # plotly renders <a href> and friends in trace names
                "x": hours,
                "y": [point.operations.get(name, 0) for point in series],
                "marker": {"color": OPERATION_COLOURS[index % len(OPERATION_COLOURS)]},
            }
            for index, name in enumerate(names)
        ],
        "layout": _layout("Operations per hour by type", "operations"),
    }
    figure["layout"]["barmode"] = "stack"
    figure["layout"]["shapes"] = [window_shape(window_start, window_end)]
    return figure


RAW_COLOUR = "#b54708"
AGGREGATED_COLOUR = "#1f5fbf"
LOG_SCALE_RATIO = 20  # aggregates this many times smaller than the raw lines would lie flat on a linear axis


def billed_per_day(points):
    """Raw and aggregated billed volume per day as two lines in one unit; a log axis when the aggregates
    are so much smaller that they would lie on the floor of a linear one (the axis title says so)."""
    raw_max = max((p.raw for p in points), default=0)
    aggregated_max = max((p.aggregated for p in points), default=0)
    unit, size = byte_unit(max(raw_max, aggregated_max))
    log = bool(aggregated_max) and raw_max / aggregated_max >= LOG_SCALE_RATIO
    days = [p.day.isoformat() for p in points]

    def values(kind):
        # a log axis cannot draw zero: a quiet day is a gap there
        return [round(getattr(p, kind) / size, 3) if getattr(p, kind) or not log else None for p in points]

    figure = {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"raw logs, {unit} billed per day",
                "x": days,
                "y": values("raw"),
                "line": {"color": RAW_COLOUR},
                "hovertemplate": f"%{{x}}<br>raw: %{{y}} {unit}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"aggregated, {unit} billed per day",
                "x": days,
                "y": values("aggregated"),
                "line": {"color": AGGREGATED_COLOUR},
                "hovertemplate": f"%{{x}}<br>aggregated: %{{y}} {unit}<extra></extra>",
            },
        ],
        "layout": _layout("Billed volume per day", f"{unit} per day" + (" (log scale)" if log else "")),
    }
    if log:
        figure["layout"]["yaxis"].update({"type": "log", "rangemode": "normal", "dtick": 1})  # decades
    return figure
