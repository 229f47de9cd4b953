"""Archive and restore: a cell put away keeps its worktree, branch, logs and timings
but holds no process and no port; a restore brings its services back, on the ports
they had when those are still free."""

from __future__ import annotations

import uuid

from hive.core.errors import ConflictError
from hive.core.status import CellStatus
from hive.core.steps import Step, Workflow
from hive.provisioning.engine.runner import Runner
from hive.provisioning.engine.workflow import WorkflowSpec
from hive.store.cells import CellStore
from hive.store.records import CellRecord

#: What a restore runs again, although checkpointed when the cell was made.
_RESTORED = frozenset(
    str(step)
    for step in (Step.ALLOCATE_PORTS, Step.ENSURE_SERVICES, Step.ASSEMBLE_PROMPT, Step.MARK_READY)
)


class CellArchive:
    def __init__(self, *, cells: CellStore, runner: Runner, archive: WorkflowSpec) -> None:
        self._cells = cells
        self._runner = runner
        self._archive = archive

    async def archive(self, cell_id: str) -> CellRecord:
        """Mark the cell archived (service actions refuse from then on), then stop its
        services and give its ports back."""
        cell = await self._cells.get(cell_id)
        if cell.status != CellStatus.READY or self._runner.is_running(cell_id):
            raise ConflictError(
                f"cell '{cell_id}' is {cell.status}; only a ready cell can be archived",
                hint="wait until it is ready, or delete it (`hive rm ID`)",
            )
        cell = await self._cells.transition(cell_id, CellStatus.ARCHIVED, only_from=[cell.status])
        await self._runner.run_aside(cell, Workflow.ARCHIVE, self._archive)
        return cell

    async def restore(self, cell_id: str) -> CellRecord:
        """Start bringing an archived cell back; it is `ready` again once its services are."""
        cell = await self._cells.get(cell_id)
        if cell.status != CellStatus.ARCHIVED:
            raise ConflictError(
                f"cell '{cell_id}' is {cell.status}; only an archived cell can be restored"
            )
        cell = await self._cells.transition(
            cell_id,
            CellStatus.SPAWNING,
            only_from=[CellStatus.ARCHIVED],
            completed_steps=[s for s in cell.completed_steps if s not in _RESTORED],
            run_id=uuid.uuid4().hex[:12],
            last_setup_error=None,
        )
        self._runner.start_create(cell, Workflow.RESTORE)
        return cell
