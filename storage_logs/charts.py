"""Plotly figures as plain dicts (tested as dicts; the page draws them with the static plotly.js)."""

from storage_logs.baseline import HOUR

READ_COLOUR = "#1f5fbf"
WINDOW_COLOUR = "rgba(180, 35, 24, 0.15)"
OPERATION_COLOURS = ["#1f5fbf", "#067647", "#c4640a", "#7a5af8", "#475467", "#b42318", "#0e9384"]


def _layout(title, y_title):
    return {
        "title": {"text": title, "font": {"size": 14}},
        "margin": {"l": 60, "r": 10, "t": 40, "b": 40},
        "height": 280,
        "xaxis": {"type": "date"},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
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


def bytes_read_per_hour(series, window_start, window_end, p95=None):
    """Bar chart of bytes read per hour with the alert window shaded and the usual p95 as a line."""
    hours = [point.hour.isoformat() for point in series]
    figure = {
        "data": [
            {
                "type": "bar",
                "name": "bytes read per hour",
                "x": hours,
                "y": [point.bytes_read for point in series],
                "marker": {"color": READ_COLOUR},
            }
        ],
        "layout": _layout("Bytes read per hour", "bytes"),
    }
    figure["layout"]["shapes"] = [window_shape(window_start, max(window_end, window_start + HOUR))]
    if p95 is not None and series:
        figure["data"].append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "usual hourly 95th percentile",
                "x": [hours[0], hours[-1]],
                "y": [p95, p95],
                "line": {"color": "#b42318", "dash": "dash"},
            }
        )
    return figure


def operations_per_hour(series, window_start, window_end):
    """Stacked bars of operations per hour by operation type."""
    names = sorted({name for point in series for name in point.operations})
    hours = [point.hour.isoformat() for point in series]
    figure = {
        "data": [
            {
                "type": "bar",
                "name": name,
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
