"""Chart geometry for inline SVG, computed on the server: no script, no third party sees the data."""
from dataclasses import dataclass
from statistics import median

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span / 2)


def _y(fraction: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(fraction, 1.0)))


def rate_chart(days, markers, day_label) -> dict | None:
    """A line of the daily response rate, with the invitation and each reminder as vertical lines."""
    if not days:
        return None
    count = len(days)
    index = {day.day: position for position, day in enumerate(days)}
    points = [(round(_x(i, count), 1), round(_y(day.rate), 1)) for i, day in enumerate(days)]
    y_ticks = [Tick(round(_y(fraction), 1), f"{int(fraction * 100)} %") for fraction in (0, 0.25, 0.5, 0.75, 1)]
    # At most about eight dates on the axis, so labels never overlap.
    step = max(1, -(-count // 8))
    x_ticks = [Tick(round(_x(i, count), 1), day_label(days[i].day)) for i in range(0, count, step)]
    lines = []
    for marker in markers:
        if marker.day in index:
            lines.append({"x": round(_x(index[marker.day], count), 1), "marker": marker})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM},
        "polyline": " ".join(f"{x},{y}" for x, y in points),
        "points": points,
        "y_ticks": y_ticks,
        "x_ticks": x_ticks,
        "markers": lines,
    }


def run_chart(waves, low: float, high: float) -> dict | None:
    """A run chart: one value per wave (None where suppressed), and the median as the centre line."""
    known = [wave["value"] for wave in waves if wave["value"] is not None]
    if not known:
        return None
    count = len(waves)

    def y(value):
        return round(_y((value - low) / (high - low) if high > low else 0.5), 1)

    points = [
        {"x": round(_x(i, count), 1), "y": y(wave["value"]), "wave": wave}
        for i, wave in enumerate(waves)
        if wave["value"] is not None
    ]
    # A break in the line where a wave was suppressed: one polyline per run of known values.
    segments, current = [], []
    for i, wave in enumerate(waves):
        if wave["value"] is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{round(_x(i, count), 1)},{y(wave['value'])}")
    if current:
        segments.append(current)
    centre = median(known)
    ticks = [Tick(y(value), f"{value:g}") for value in _nice_steps(low, high)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM},
        "segments": [" ".join(segment) for segment in segments],
        "points": points,
        "median": {"y": y(centre), "value": centre},
        "y_ticks": ticks,
        "x_ticks": [Tick(round(_x(i, count), 1), wave["label"]) for i, wave in enumerate(waves)],
    }


def _nice_steps(low: float, high: float) -> list[float]:
    span = high - low
    step = 1 if span <= 6 else 2 if span <= 12 else max(1, round(span / 5))
    values, value = [], low
    while value <= high + 1e-9:
        values.append(round(value, 2))
        value += step
    return values


def bar_width(fraction: float, full: int = 100) -> int:
    """A bar's width in percent of its track, 0..full, for SVG bars."""
    return max(0, min(full, round(fraction * full)))
