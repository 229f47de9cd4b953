"""Sparkline points: time across the window, value against the series' highest."""

from __future__ import annotations

from hive.web.sparklines import spark

NOW = 1_800_000_000.0  # a whole minute: 2027-01-15T08:00:00Z


def test_points_sit_by_time_and_scale_to_the_peak() -> None:
    line = spark(
        [("2027-01-15T07:00:00.000Z", 0.0), ("2027-01-15T07:30:00.000Z", 50.0)],
        now=NOW,
        window_s=3600,
    )
    # Half an hour in is halfway across; the peak touches the top pad; the newest
    # value lasts until now, the right edge.
    assert line.points == "0.0,22.0 50.0,2.0 100.0,2.0"
    assert line.peak == 50.0


def test_a_flat_series_lies_on_the_floor_and_none_draws_nothing() -> None:
    flat = spark([("2027-01-15T07:59:00.000Z", 0.0)], now=NOW, window_s=3600)
    assert flat.points == "98.3,22.0 100.0,22.0"
    assert spark([], now=NOW, window_s=3600).points == ""


def test_a_point_before_the_window_is_held_at_its_left_edge() -> None:
    line = spark([("2027-01-15T06:00:00.000Z", 1.0)], now=NOW, window_s=3600)
    assert line.points.startswith("0.0,")
