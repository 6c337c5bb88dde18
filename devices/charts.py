"""A small bar chart of counts per day, as SVG geometry (the page draws it without JavaScript: the
Content-Security-Policy refuses style attributes, and SVG attributes are not styles). Pure data."""

WIDTH, HEIGHT, GAP = 28, 60, 6


def day_bars(days):
    """{width, height, bars: [{x, y, height, label, count}]} for [(date, count)], tallest bar full height."""
    peak = max((count for _, count in days), default=0) or 1
    bars = []
    for index, (day, count) in enumerate(days):
        height = round(HEIGHT * count / peak) if count else 1
        bars.append(
            {
                "x": index * (WIDTH + GAP),
                "y": HEIGHT - height,
                "width": WIDTH,
                "height": height,
                "label": day.strftime("%a %d"),
                "count": count,
            }
        )
    return {"width": len(days) * (WIDTH + GAP) - GAP, "height": HEIGHT, "bars": bars}
