"""Step timings per cell and across all cells (deleted ones included)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

from hive.api.deps import Runtime
from hive.api.schemas import (
    ChainLinkOut,
    CriticalChain,
    RunStatsOut,
    StepStatsOut,
    TemplateSummaryOut,
    TimingOut,
    Timings,
    TimingSummary,
)
from hive.api.timing_schemas import TimingChoicesOut
from hive.core.critical_chain import critical_chain
from hive.core.time_bounds import parse_bound
from hive.core.timing_cursor import decode_cursor, encode_cursor
from hive.core.timings import summarize_runs
from hive.runtime import HiveRuntime
from hive.store.timings import TimingFilter

router = APIRouter(prefix="/api/cells", tags=["timings"])


def _bound(value: str | None) -> str | None:
    # Relative ages count back from the moment the request is validated.
    return None if value is None else parse_bound(value, datetime.now(UTC))


def _cursor(value: str | None) -> str | None:
    if value is not None:
        decode_cursor(value)  # refused here, as a 422 naming the parameter
    return value


_BOUND_HELP = "ISO 8601 instant (UTC without an offset) or an age: 1d, 2h, 30m, 45s."
Bound = Annotated[str | None, Query(description=_BOUND_HELP), AfterValidator(_bound)]
Cursor = Annotated[
    str | None, Query(description="`nextCursor` of the previous page."), AfterValidator(_cursor)
]


@router.get("/timings/global")
async def global_timings(
    runtime: Runtime,
    cell_id: str | None = Query(default=None, alias="cellId"),
    template_id: str | None = Query(default=None, alias="templateId"),
    workflow: str | None = None,
    workspace_id: str | None = Query(default=None, alias="workspaceId"),
    step: Annotated[
        str | None, Query(description="One step by its full name (`create_worktree:include_copy`).")
    ] = None,
    status: Literal["ok", "error"] | None = None,
    since: Bound = None,
    until: Bound = None,
    cursor: Cursor = None,
    summary: Annotated[bool, Query(description="Per-template statistics instead of rows.")] = False,
    limit: int = Query(default=500, ge=1, le=10_000),
) -> Timings | TimingSummary:
    """Rows recorded in [since, until) (a row is recorded when its step ends), newest
    page first; or, with `summary=1`, statistics over every matching row."""
    if since is not None and until is not None and since > until:
        raise RequestValidationError(
            [{"loc": ("query", "until"), "msg": "until is before since", "type": "value_error"}]
        )
    where = TimingFilter(
        cell_id=cell_id,
        template_id=template_id,
        workflow=workflow,
        workspace_id=workspace_id,
        step=step,
        status=status,
        since=since,
        until=until,
    )
    if summary:
        return await _summary(runtime, where)  # over every matching row: no pages
    if cursor is not None:
        where = replace(where, before_id=decode_cursor(cursor))
    page = await runtime.stores.timings.page(where, limit)
    # Runs are summarised from all their steps, not only the ones the page kept.
    run_ids = tuple(dict.fromkeys(row.run_id for row in page.rows))
    run_rows = await runtime.stores.timings.query(TimingFilter(run_ids=run_ids))
    return Timings(
        steps=[TimingOut.of(r) for r in page.rows],
        runs=summarize_runs(run_rows),
        next_cursor=None if page.next_before_id is None else encode_cursor(page.next_before_id),
    )


@router.get("/timings/choices")
async def global_timing_choices(runtime: Runtime) -> TimingChoicesOut:
    """The workspaces, templates, cells (deleted ones too) and steps the timing rows
    hold: what `/timings/global` can be filtered by."""
    return TimingChoicesOut.of(await runtime.stores.timings.choices())


async def _summary(runtime: HiveRuntime, where: TimingFilter) -> TimingSummary:
    store = runtime.stores.timings
    steps, runs = await store.step_stats(where), await store.run_stats(where)
    templates = dict.fromkeys([s.template_id for s in steps] + [r.template_id for r in runs])
    return TimingSummary(
        templates=[
            TemplateSummaryOut(
                template_id=template,
                steps=[
                    StepStatsOut.model_validate(s, from_attributes=True)
                    for s in steps
                    if s.template_id == template
                ],
                runs=[
                    RunStatsOut.model_validate(r, from_attributes=True)
                    for r in runs
                    if r.template_id == template
                ],
            )
            for template in templates
        ]
    )


@router.get("/{cell_id}/timings")
async def cell_timings(
    cell_id: str,
    runtime: Runtime,
    view: Annotated[
        Literal["steps", "chain"],
        Query(description="`chain`: the critical chain of the latest create/retry run."),
    ] = "steps",
) -> Timings | CriticalChain:
    """A cell's rows, also after the cell was deleted: 404 only for an id with no rows
    that names no cell either (a cell just created may have none yet)."""
    rows = await runtime.stores.timings.query(TimingFilter(cell_id=cell_id))
    if not rows:
        await runtime.stores.cells.get(cell_id)
    if view == "chain":
        chain = critical_chain(rows)
        return CriticalChain(
            cell_id=cell_id,
            run_id=chain.run_id,
            workflow=chain.workflow,
            attempt=chain.attempt,
            status=chain.status,
            total_ms=chain.total_ms,
            links=[ChainLinkOut.model_validate(link, from_attributes=True) for link in chain.links],
        )
    return Timings(steps=[TimingOut.of(r) for r in rows], runs=summarize_runs(rows))
