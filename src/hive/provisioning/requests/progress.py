"""A cell's provisioning checklist and its ETA, as the cell reads answer them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hive.core.eta import RECENT_RUNS, Eta, elapsed_ms, estimate, step_history
from hive.core.run_progress import IN_PROGRESS, RunProgress, RunRow, run_progress
from hive.store.records import CellRecord
from hive.store.step_history import StepHistoryStore


@dataclass(frozen=True)
class CellProgressView:
    provisioning: RunProgress
    eta: Eta | None
    """None once the cell is not provisioning (pending or spawning)."""


class CellProgress:
    def __init__(
        self, history: StepHistoryStore, steps: tuple[str, ...], reruns: frozenset[str]
    ) -> None:
        self._history = history
        self._steps = steps
        self._reruns = reruns

    async def of(self, cell: CellRecord) -> CellProgressView:
        """One indexed query for a cell in progress; none for a settled one."""
        if cell.status not in IN_PROGRESS:
            return CellProgressView(self._progress(cell, ()), None)
        rows = await self._history.for_cell(cell, self._steps, RECENT_RUNS)
        progress = self._progress(cell, rows.current)
        running = progress.current_step is not None
        eta = estimate(
            self._steps,
            progress.remaining,
            step_history(rows.history),
            current_elapsed_ms=(
                elapsed_ms(progress.current_started_at, datetime.now(UTC)) if running else 0.0
            ),
        )
        return CellProgressView(progress, eta)

    def _progress(self, cell: CellRecord, rows: Sequence[RunRow]) -> RunProgress:
        return run_progress(
            self._steps,
            status=cell.status,
            completed_steps=cell.completed_steps,
            reruns=self._reruns,
            run_id=cell.run_id,
            rows=rows,
            progress=cell.progress,
        )
