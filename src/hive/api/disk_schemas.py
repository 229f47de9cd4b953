"""Bodies of a cell's disk (`GET /api/cells/{id}/disk`)."""

from __future__ import annotations

from hive.api.bodies import _Body
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
