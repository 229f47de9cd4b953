"""Sparklines: a series of (time, value) as the points of an SVG polyline.

The box is `WIDTH` by `HEIGHT` user units, stretched by CSS (`.spark`); x is the time
across the window (its right edge is now), y the value against the series' highest.
The newest value is held to the right edge: a minute still going on lasts until now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH = 100.0
HEIGHT = 24.0
#: Room above and below the line, so a flat or a peak line is not cut by the edge.
_PAD = 2.0


@dataclass(frozen=True)
class Spark:
    points: str
    """`x,y x,y …` for the polyline; empty without values."""
    peak: float
    """The highest value, for the sparkline's label."""


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def spark(series: Sequence[tuple[str, float]], *, now: float, window_s: float) -> Spark:
    """`series` is (ISO time, value), oldest first; values outside the window are kept
    at its edge rather than dropped (a clock a little off must not hide a point)."""
    if not series:
        return Spark("", 0.0)
    start = now - window_s
    peak = max(value for _, value in series)
    scale = (HEIGHT - 2 * _PAD) / peak if peak > 0 else 0.0

    def x(at: float) -> float:
        return min(WIDTH, max(0.0, (at - start) / window_s * WIDTH))

    def y(value: float) -> float:
        return HEIGHT - _PAD - value * scale

    coordinates = [(x(_seconds(at)), y(value)) for at, value in series]
    coordinates.append((WIDTH, coordinates[-1][1]))
    return Spark(" ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coordinates), peak)
