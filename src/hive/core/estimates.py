"""What a template's next cell will likely cost, from its last cells in the workspace.

Provisioning time (p50, p90) from the create runs that reached ready; peak memory, mean
CPU and disk added (p50 each) from the cells' footprints, each figure from the cells that
measured it. Percentiles are nearest-rank (always a value that was measured), as in the
timing summary. Services and ports come from the template itself, history or not. Each
figure names its basis: how many cells, the newest and oldest measurement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The most recent cells an estimate is made from, per figure.
HISTORY_CELLS = 20


@dataclass(frozen=True)
class RunTotal:
    """A create run that reached ready: the sum of its top-level steps."""

    cell_id: str
    total_ms: float
    at: str
    """When it ended (ISO 8601, sortable)."""


@dataclass(frozen=True)
class Footprint:
    """A cell's measured cost; None (or no samples) where nothing was measured."""

    cell_id: str
    at: str
    """When it was last written."""
    peak_rss_bytes: int | None = None
    cpu_sum: float = 0.0
    cpu_samples: int = 0
    disk_added_bytes: int | None = None


@dataclass(frozen=True)
class Basis:
    cells: int
    newest: str
    oldest: str


@dataclass(frozen=True)
class Figure:
    p50: float
    p90: float | None
    """Only for provisioning time."""
    basis: Basis


@dataclass(frozen=True)
class Estimate:
    services: int
    ports: int
    provisioning_ms: Figure | None = None
    peak_memory_bytes: Figure | None = None
    cpu_percent: Figure | None = None
    """Mean CPU over the cell's samples, in percent of one core."""
    disk_added_bytes: Figure | None = None
    basis: Basis | None = None
    """Every cell any figure comes from; None when there is no history at all."""


@dataclass(frozen=True)
class _Sample:
    cell_id: str
    value: float
    at: str


def nearest_rank(values: Sequence[float], percent: int) -> float:
    """The smallest value with at least `percent`% of the values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))  # ceil without floats
    return ordered[rank - 1]


def _basis(samples: Iterable[_Sample]) -> Basis | None:
    listed = list(samples)
    if not listed:
        return None
    stamps = [s.at for s in listed]
    return Basis(len({s.cell_id for s in listed}), max(stamps), min(stamps))


def _recent(samples: Iterable[_Sample], cells: int) -> list[_Sample]:
    return sorted(samples, key=lambda s: s.at, reverse=True)[:cells]


def _figure(samples: list[_Sample], *, p90: bool = False) -> Figure | None:
    basis = _basis(samples)
    if basis is None:
        return None
    values = [s.value for s in samples]
    return Figure(nearest_rank(values, 50), nearest_rank(values, 90) if p90 else None, basis)


def estimate(
    runs: Iterable[RunTotal],
    footprints: Iterable[Footprint],
    *,
    services: int,
    ports: int,
    cells: int = HISTORY_CELLS,
) -> Estimate:
    prints = list(footprints)

    def measured(values: Iterable[tuple[str, float | None, str]]) -> list[_Sample]:
        known = (_Sample(cell, value, stamp) for cell, value, stamp in values if value is not None)
        return _recent(known, cells)

    timed = measured((r.cell_id, r.total_ms, r.at) for r in runs)
    memory = measured((f.cell_id, f.peak_rss_bytes, f.at) for f in prints)
    cpu = measured(
        (f.cell_id, f.cpu_sum / f.cpu_samples if f.cpu_samples > 0 else None, f.at) for f in prints
    )
    disk = measured((f.cell_id, f.disk_added_bytes, f.at) for f in prints)
    return Estimate(
        services=services,
        ports=ports,
        provisioning_ms=_figure(timed, p90=True),
        peak_memory_bytes=_figure(memory),
        cpu_percent=_figure(cpu),
        disk_added_bytes=_figure(disk),
        basis=_basis([*timed, *memory, *cpu, *disk]),
    )
