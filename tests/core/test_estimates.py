"""The estimate arithmetic, table-driven: nearest-rank percentiles, which cells each
figure reads, NULLs as unknown, the basis, and no history at all."""

from __future__ import annotations

import pytest

from hive.core.estimates import (
    Basis,
    Estimate,
    Figure,
    Footprint,
    RunTotal,
    estimate,
    nearest_rank,
)


def at(day: int) -> str:
    return f"2024-01-{day:02d}T00:00:00.000Z"


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 90, 5.0),
        ([1.0, 2.0], 50, 1.0),
        ([1.0, 2.0], 90, 2.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([float(n) for n in range(1, 11)], 50, 5.0),
        ([float(n) for n in range(1, 11)], 90, 9.0),
        ([float(n) for n in range(1, 12)], 90, 10.0),
        ([4.0, 4.0, 4.0, 100.0], 50, 4.0),
    ],
)
def test_nearest_rank(values: list[float], percent: int, expected: float) -> None:
    assert nearest_rank(values, percent) == expected


def test_nearest_rank_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        nearest_rank([], 50)


def test_no_history_says_only_what_the_config_does() -> None:
    assert estimate([], [], services=3, ports=2) == Estimate(services=3, ports=2)


def test_footprints_with_nothing_measured_are_no_history() -> None:
    blank = [Footprint("a", at(1)), Footprint("b", at(2), cpu_sum=0.0, cpu_samples=0)]
    assert estimate([], blank, services=1, ports=0).basis is None


CASES = [
    pytest.param(
        [RunTotal("a", 1000.0, at(1)), RunTotal("b", 3000.0, at(3)), RunTotal("c", 2000.0, at(2))],
        [],
        {
            "provisioning_ms": Figure(2000.0, 3000.0, Basis(3, at(3), at(1))),
            "basis": Basis(3, at(3), at(1)),
        },
        id="runs only: p50 and p90 of the totals",
    ),
    pytest.param(
        [],
        [
            Footprint("a", at(1), peak_rss_bytes=100, cpu_sum=10.0, cpu_samples=2),
            Footprint("b", at(2), peak_rss_bytes=300, cpu_sum=30.0, cpu_samples=3),
            Footprint("c", at(3), peak_rss_bytes=None, disk_added_bytes=5000),
        ],
        {
            "peak_memory_bytes": Figure(100.0, None, Basis(2, at(2), at(1))),
            "cpu_percent": Figure(5.0, None, Basis(2, at(2), at(1))),
            "disk_added_bytes": Figure(5000.0, None, Basis(1, at(3), at(3))),
            "basis": Basis(3, at(3), at(1)),
        },
        id="each figure from the cells that measured it; CPU is a mean per cell",
    ),
    pytest.param(
        [RunTotal("a", 1500.0, at(4))],
        [Footprint("a", at(5), disk_added_bytes=10), Footprint("z", at(2), disk_added_bytes=30)],
        {
            "provisioning_ms": Figure(1500.0, 1500.0, Basis(1, at(4), at(4))),
            "disk_added_bytes": Figure(10.0, None, Basis(2, at(5), at(2))),
            "basis": Basis(2, at(5), at(2)),
        },
        id="the overall basis counts each cell once",
    ),
]


@pytest.mark.parametrize(("runs", "prints", "figures"), CASES)
def test_estimates(
    runs: list[RunTotal], prints: list[Footprint], figures: dict[str, object]
) -> None:
    assert estimate(runs, prints, services=2, ports=1) == Estimate(services=2, ports=1, **figures)


def test_only_the_most_recent_cells_count() -> None:
    runs = [RunTotal(f"c{day}", 1000.0 * day, at(day)) for day in range(1, 11)]
    got = estimate(runs, [], services=0, ports=0, cells=3)
    assert got.provisioning_ms == Figure(9000.0, 10_000.0, Basis(3, at(10), at(8)))
