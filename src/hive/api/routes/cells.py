"""Cells: create (201 at once, provisioning in the background), read, retry, delete."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query

from hive.agents.choice import AgentRequest
from hive.api.deps import Runtime
from hive.api.schemas import (
    CellList,
    CellOut,
    CreateCell,
    CreatedCellOut,
    DeleteCells,
    DeletedCell,
    DeletedCells,
    DeleteResultOut,
    PromptOut,
    PromptSourceOut,
)
from hive.core.errors import ConflictError
from hive.provisioning.requests.cells import CreateCellRequest
from hive.runtime import HiveRuntime
from hive.store.records import CellRecord
from hive.workspace.cell_files import read_prompt

router = APIRouter(prefix="/api/cells", tags=["cells"])


@router.post("", status_code=201)
async def create_cell(body: CreateCell, runtime: Runtime) -> CreatedCellOut:
    """Create a cell (201 at once, `pending`; provisioning goes on in the background),
    with `warnings` (low disk space). 422 for an unknown or invalid template, or an
    unknown option name or value; 409 listing every check the template fails here
    (`checks`) unless `force`, and 409 when the cells root's file system has less than
    1 GB free, naming the biggest cells."""
    created = await runtime.cells.create(
        CreateCellRequest(
            workspace_id=body.workspace_id,
            template_id=body.template_id,
            name=body.name,
            description=body.description,
            base_ref=body.base_ref,
            constraints=tuple(body.constraints),
            success_criteria=tuple(body.success_criteria),
            agent=AgentRequest(body.provider_id, body.model_id, body.start_mode),
            options=dict(body.options),
            force=body.force,
        )
    )
    cell = await _out(runtime, created.cell)
    return CreatedCellOut(**cell.model_dump(), warnings=created.warnings)


@router.get("")
async def list_cells(
    runtime: Runtime, workspace_id: str | None = Query(default=None, alias="workspaceId")
) -> CellList:
    if workspace_id is not None:
        await runtime.stores.workspaces.get(workspace_id)  # 404 for an unknown workspace
    cells = await runtime.stores.cells.list(workspace_id=workspace_id)
    # Only cells in progress cost a query: the others answer from their record.
    return CellList(cells=[await _out(runtime, cell) for cell in cells])


@router.get("/{cell_id}")
async def get_cell(cell_id: str, runtime: Runtime) -> CellOut:
    return await _out(runtime, await runtime.stores.cells.get(cell_id))


@router.get("/{cell_id}/prompt")
async def get_prompt(cell_id: str, runtime: Runtime) -> PromptOut:
    """The cell's assembled first prompt (`.hive/PROMPT.md`) and its fragments in
    order; 409 until the `assemble_prompt` step has written it."""
    cell = await runtime.stores.cells.get(cell_id)
    text = await asyncio.to_thread(read_prompt, cell.worktree_path)
    if cell.prompt is None or text is None:
        raise ConflictError(
            f"cell '{cell_id}' has no assembled prompt yet (it is {cell.status})",
            hint="the prompt is written by the assemble_prompt step: wait for the cell "
            "to be ready, or retry it if it failed",
        )
    return PromptOut(
        prompt=text,
        sources=[PromptSourceOut(**source) for source in cell.prompt.get("sources", [])],
        warnings=list(cell.prompt.get("warnings", [])),
    )


@router.post("/{cell_id}/setup/retry", status_code=202)
@router.post("/{cell_id}/retry", status_code=202)
async def retry_cell(cell_id: str, runtime: Runtime) -> CellOut:
    """Run the cell's provisioning again (`/retry` is an alias): a cell in `error`
    resumes at the step that failed; a `ready` cell runs setup and services again with
    the template as the config has it now. 409 while a run is active or the cell is
    being deleted."""
    return await _out(runtime, await runtime.cells.retry(cell_id))


@router.post("/{cell_id}/cancel")
async def cancel_cell(
    cell_id: str,
    runtime: Runtime,
    discard: bool = Query(
        default=False,
        description="Also remove the worktree, and the branch when it has no new commits.",
    ),
) -> CellOut:
    """Stop a running provisioning: its setup processes are stopped, services and ports
    released, the worktree kept unless `?discard=1`; the cell ends in `error`. 409 when
    none is running."""
    return await _out(runtime, await runtime.cells.cancel(cell_id, discard=discard))


@router.post("/{cell_id}/archive")
async def archive_cell(cell_id: str, runtime: Runtime) -> CellOut:
    """Stop the cell's services and give its ports back; its worktree, branch, logs
    and timings stay. Service actions answer 409 until it is restored."""
    return await _out(runtime, await runtime.archive.archive(cell_id))


@router.post("/{cell_id}/restore", status_code=202)
async def restore_cell(cell_id: str, runtime: Runtime) -> CellOut:
    """Bring an archived cell back (ports as before when free, services started, no
    setup run); it is `ready` again once its services are."""
    return await _out(runtime, await runtime.archive.restore(cell_id))


@router.delete("/{cell_id}")
async def delete_cell(cell_id: str, runtime: Runtime) -> DeletedCell:
    """Delete a cell; uncommitted work in its worktree is kept as a snapshot first (a
    cell whose work cannot be saved is not deleted: it goes to `error`, saying why)."""
    return DeletedCell.of(await runtime.cells.delete(cell_id))


@router.delete("")
async def delete_cells(body: DeleteCells, runtime: Runtime) -> DeletedCells:
    """Delete several cells (`{"ids": [...]}`): one result per id, each ok or its error."""
    results = await runtime.cells.delete_many(body.ids)
    return DeletedCells(results=[DeleteResultOut.of(r) for r in results])


async def _out(runtime: HiveRuntime, cell: CellRecord) -> CellOut:
    return CellOut.of(cell, await runtime.progress.of(cell))
