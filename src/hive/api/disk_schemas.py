"""Bodies of a cell's disk (`GET /api/cells/{id}/disk`) and of templates' estimates."""

from __future__ import annotations

from typing import Literal

from hive.api.bodies import _Body
from hive.core.estimates import Basis, Estimate, Figure
from hive.store.cell_disk import CellDisk


class DiskOut(_Body):
    """A cell's disk as last measured."""

    apparent_bytes: int
    """Sum of file sizes in the worktree (its `.git` file aside)."""
    allocated_bytes: int
    """Blocks the worktree holds."""
    cloned_bytes: int
    """Of those, cloned copy-on-write by include-copy: no space until changed."""
    own_bytes: int
    """Allocated less cloned: what removing the worktree frees."""
    logs_bytes: int
    """The cell's service and setup logs."""
    added_bytes: int
    """Own bytes and logs: what the cell adds to the disk."""
    files: int
    complete: bool
    """False when the walk ran out of time: the figures are a lower bound."""
    duration_ms: float
    measured_at: str

    @classmethod
    def of(cls, disk: CellDisk) -> DiskOut:
        return cls(
            apparent_bytes=disk.apparent_bytes,
            allocated_bytes=disk.allocated_bytes,
            cloned_bytes=disk.cloned_bytes,
            own_bytes=disk.own_bytes,
            logs_bytes=disk.logs_bytes,
            added_bytes=disk.added_bytes,
            files=disk.files,
            complete=disk.complete,
            duration_ms=disk.duration_ms,
            measured_at=disk.measured_at,
        )


class CellDiskOut(_Body):
    cell_id: str
    disk: DiskOut | None
    """None until the first measurement (once provisioning settles)."""


class BasisOut(_Body):
    cells: int
    newest: str
    """The newest measurement's time."""
    oldest: str

    @classmethod
    def of(cls, basis: Basis) -> BasisOut:
        return cls(cells=basis.cells, newest=basis.newest, oldest=basis.oldest)


class FigureOut(_Body):
    p50: float
    p90: float | None = None
    basis: BasisOut

    @classmethod
    def of(cls, figure: Figure | None) -> FigureOut | None:
        if figure is None:
            return None
        return cls(p50=figure.p50, p90=figure.p90, basis=BasisOut.of(figure.basis))


class EstimateOut(_Body):
    """What a template's next cell will likely cost, from its last cells here."""

    basis: BasisOut | Literal["none"]
    """Every cell the figures come from; `none` without history (figures null)."""
    provisioning_ms: FigureOut | None
    """p50 and p90 of create runs that reached ready."""
    peak_memory_bytes: FigureOut | None
    cpu_percent: FigureOut | None
    """Mean CPU per cell, in percent of one core."""
    disk_added_bytes: FigureOut | None
    services: int
    """From the template, history or not."""
    ports: int

    @classmethod
    def of(cls, estimate: Estimate) -> EstimateOut:
        return cls(
            basis="none" if estimate.basis is None else BasisOut.of(estimate.basis),
            provisioning_ms=FigureOut.of(estimate.provisioning_ms),
            peak_memory_bytes=FigureOut.of(estimate.peak_memory_bytes),
            cpu_percent=FigureOut.of(estimate.cpu_percent),
            disk_added_bytes=FigureOut.of(estimate.disk_added_bytes),
            services=estimate.services,
            ports=estimate.ports,
        )
