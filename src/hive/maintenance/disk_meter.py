"""Each cell's disk, measured once its provisioning settles and again every hour.

One background task. It learns from the bus that a run settled (a `cell` event with
`settled: true`: a create, retry or restore that reached ready, or failed) and then
measures that cell; besides, it measures every cell whose measurement is missing or
older than the interval. When the bus cannot vouch for what it queued (start-up, a
gap), a pass also takes every ready cell changed since it was measured. The walks run
in a thread, one cell at a time, each within a time budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from hive.core.status import CellStatus
from hive.events.bus import EventBus
from hive.store.cell_disk import CellDisk, CellDiskStore
from hive.store.cells import CellStore
from hive.store.clock import now_iso
from hive.store.events import EventRecord
from hive.store.records import CellRecord
from hive.workspace.disk_usage import TreeUsage, measure_tree

log = logging.getLogger(__name__)

#: Cells with a worktree at rest. Pending and spawning ones are still being made.
MEASURED = frozenset({CellStatus.READY, CellStatus.ERROR, CellStatus.ARCHIVED})
#: Cells whose measurement goes into their template's history (a failed one's may be partial).
IN_HISTORY = frozenset({CellStatus.READY, CellStatus.ARCHIVED})
#: A worktree's `.git` is a file pointing into the repository: not the cell's bytes.
_SKIPPED = frozenset({".git"})
#: The shortest wait between passes: a measurement that keeps failing must not spin.
_MIN_WAIT_S = 0.05


def _settled(event: EventRecord) -> bool:
    return event.kind == "cell" and event.data.get("settled") is True


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


class DiskMeter:
    def __init__(
        self,
        *,
        cells: CellStore,
        disks: CellDiskStore,
        bus: EventBus,
        logs_root: Path,
        interval_s: float,
        budget_s: float,
    ) -> None:
        self._cells = cells
        self._disks = disks
        self._bus = bus
        self._logs_root = logs_root
        self._interval_s = interval_s
        self._budget_s = budget_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hive-disk-meter")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def measure(self, cell: CellRecord) -> CellDisk:
        """Walk the cell's worktree and logs now (in a thread) and keep the figures."""
        cloned = await self._disks.cloned_bytes(cell.id)
        tree, logs = await asyncio.to_thread(self._walk, cell)
        disk = CellDisk(
            cell_id=cell.id,
            apparent_bytes=tree.apparent_bytes,
            allocated_bytes=tree.allocated_bytes,
            # As include-copy left them; never more than the worktree holds now.
            cloned_bytes=min(cloned, tree.allocated_bytes),
            logs_bytes=logs.allocated_bytes,
            files=tree.files,
            complete=tree.complete and logs.complete,
            duration_ms=round(tree.duration_ms + logs.duration_ms, 3),
            measured_at=now_iso(),
        )
        await self._disks.save(disk, footprint_of=cell if cell.status in IN_HISTORY else None)
        return disk

    def _walk(self, cell: CellRecord) -> tuple[TreeUsage, TreeUsage]:
        tree = measure_tree(cell.worktree_path, budget_s=self._budget_s, skip_top=_SKIPPED)
        logs = measure_tree(self._logs_root / cell.id, budget_s=self._budget_s)
        return tree, logs

    async def _run(self) -> None:
        with self._bus.subscribe(_settled) as news:
            while True:
                news.changed.clear()  # before looking: anything later sets it again
                settled: set[str] | None = None
                if news.stale:
                    news.begin_read()
                else:
                    settled = {e.cell_id for e in news.take(0) if e.cell_id is not None}
                try:
                    wait_s = await self.run_pass(settled)
                except Exception:
                    log.exception("measuring cells' disk failed; trying again later")
                    wait_s = self._interval_s
                await news.wait(max(wait_s, _MIN_WAIT_S))

    async def run_pass(self, settled: Collection[str] | None) -> float:
        """Measure the cells that are due; returns the seconds until the next is.

        `settled`: cells the bus said settled; None when it could not say (then every
        ready cell changed since its measurement is due too).
        """
        await self._disks.prune()
        measured = await self._disks.measured()
        cells = await self._cells.list(statuses=MEASURED)
        now = _seconds(now_iso())
        next_due = self._interval_s
        for cell in cells:
            last = measured.get(cell.id)
            due = (
                last is None
                or now - _seconds(last) >= self._interval_s
                or (settled is not None and cell.id in settled)
                or (settled is None and cell.status == CellStatus.READY and cell.updated_at > last)
            )
            if not due:
                assert last is not None
                next_due = min(next_due, _seconds(last) + self._interval_s - now)
                continue
            try:
                await self.measure(cell)
            except Exception:
                log.exception("cell %s: its disk could not be measured", cell.id)
        return next_due
