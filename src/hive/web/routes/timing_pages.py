"""`/timings`: every cell's step timings (deleted cells too) with filters kept in the
URL, the per-template summary and the steps with their metadata; `/cells/{id}/timings`:
the same for one cell, with a waterfall of its runs. Live from the timings stream."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse

from hive.api.deps import Runtime
from hive.api.routes.timings import cell_timings, global_timing_choices, global_timings
from hive.api.schemas import CriticalChain, Timings, TimingSummary
from hive.api.timing_schemas import TimingChoicesOut
from hive.web.deps import Pages
from hive.web.page_route import PageRoute
from hive.web.timing_filters import STATUSES, TimingFilters, check
from hive.web.timing_view import metadata_items, waterfalls

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: Step rows a page shows; older ones are a link away (the API's cursor).
PAGE_ROWS = 200


async def _results(runtime: Runtime, filters: TimingFilters) -> dict[str, Any]:
    """The rows page and the summary for the filters, or the fields' errors."""
    checked = check(filters)
    if checked.errors:
        return {"errors": checked.errors, "timings": None, "summary": None}
    where: dict[str, Any] = {
        "cell_id": filters.cell_id,
        "template_id": filters.template_id,
        "workflow": None,
        "workspace_id": filters.workspace_id,
        "step": filters.step,
        "status": filters.status,
        "since": checked.since,
        "until": checked.until,
    }
    try:
        timings = await global_timings(
            runtime, **where, cursor=filters.cursor, summary=False, limit=PAGE_ROWS
        )
        # The summary covers every matching row: no cursor, and the limit is not read.
        summary = await global_timings(runtime, **where, cursor=None, summary=True, limit=PAGE_ROWS)
    except RequestValidationError as exc:
        errors = {str(e["loc"][-1]): str(e["msg"]) for e in exc.errors()}
        return {"errors": errors, "timings": None, "summary": None}
    return {
        "errors": {},
        "timings": cast(Timings, timings),
        "summary": cast(TimingSummary, summary),
    }


def _context(
    filters: TimingFilters, choices: TimingChoicesOut, results: dict[str, Any], **more: Any
) -> dict[str, Any]:
    options = {
        "workspaces": [(w.id, w.label or w.id) for w in choices.workspaces],
        "templates": [(t, t) for t in choices.templates],
        "cells": [
            (c.id, f"{c.name}{' (deleted)' if c.deleted else ''} · {c.id[:8]}")
            for c in choices.cells
        ],
        "steps": [(s, s) for s in choices.steps],
        "statuses": [(s, s) for s in STATUSES],
    }
    return {
        "filters": filters,
        "options": options,
        "deleted": {c.id for c in choices.cells if c.deleted},
        "meta": metadata_items,
        **results,
        **more,
    }


@router.get("/timings")
async def timings_page(
    request: Request, runtime: Runtime, pages: Pages, part: str | None = None
) -> HTMLResponse:
    # The stream goes on from before the rows are read: nothing falls between.
    after = await runtime.stores.events.last_id()
    filters = TimingFilters.of(request)
    choices = await global_timing_choices(runtime)
    context = _context(
        filters,
        choices,
        await _results(runtime, filters),
        action="/timings",
        cell=None,
        stream_after=after,
    )
    if part is not None:
        return pages.part(request, "timings", part, **context)
    return pages.render(request, "timings/page.html", **context)


@router.get("/cells/{cell_id}/timings")
async def cell_timings_page(
    cell_id: str, request: Request, runtime: Runtime, pages: Pages, part: str | None = None
) -> HTMLResponse:
    """Also for a deleted cell: its rows outlive it (404 only for an id never seen)."""
    after = await runtime.stores.events.last_id()
    steps = cast(Timings, await cell_timings(cell_id, runtime, view="steps"))
    chain = cast(CriticalChain, await cell_timings(cell_id, runtime, view="chain"))
    filters = replace(TimingFilters.of(request), cell_id=cell_id, workspace_id=None)
    choices = await global_timing_choices(runtime)
    chosen = next((c for c in choices.cells if c.id == cell_id), None)
    # No rows yet (just created): the cell itself, which then exists.
    name = chosen.name if chosen else (await runtime.stores.cells.get(cell_id)).name
    context = _context(
        filters,
        choices,
        await _results(runtime, filters),
        action=f"/cells/{cell_id}/timings",
        cell={"id": cell_id, "name": name, "deleted": chosen.deleted if chosen else False},
        waterfalls=waterfalls(steps.steps, steps.runs, chain),
        chain=chain,
        stream_after=after,
    )
    if part is not None:
        return pages.part(request, "timings", part, **context)
    return pages.render(request, "timings/cell.html", **context)
