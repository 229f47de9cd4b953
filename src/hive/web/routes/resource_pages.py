"""`/resources`: every cell's CPU, memory and disk with a sparkline of its last hour,
and the room left where cells live; refreshed on a timer (resources have no stream)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hive.api.deps import Runtime
from hive.api.resource_schemas import CellHistoryOut, FreeSpaceOut
from hive.api.routes.resources import free_space, list_resources, resource_history
from hive.api.routes.workspaces import list_workspaces
from hive.core.errors import HiveError
from hive.resources.reports import ResourceSort
from hive.web.deps import Pages
from hive.web.page_route import PageRoute
from hive.web.sparklines import Spark, spark

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The sparklines' window: the last hour.
HISTORY_MINUTES = 60


def _sparks(history: CellHistoryOut | None, now: float) -> dict[str, Spark]:
    minutes = history.minutes if history else []
    window_s = HISTORY_MINUTES * 60.0
    return {
        "cpu": spark([(m.at, m.cpu) for m in minutes], now=now, window_s=window_s),
        "memory": spark([(m.at, float(m.rss)) for m in minutes], now=now, window_s=window_s),
    }


async def _space(runtime: Runtime) -> tuple[FreeSpaceOut | None, str | None]:
    try:
        return await free_space(runtime), None
    except HiveError as exc:  # the table is still worth showing
        return None, exc.message


@router.get("/resources")
async def resources_page(
    request: Request, runtime: Runtime, pages: Pages, part: str | None = None
) -> HTMLResponse:
    listing = await list_resources(runtime, workspace_id=None, sort=ResourceSort.NAME)
    history = await resource_history(runtime, workspace_id=None, minutes=HISTORY_MINUTES)
    now = time.time()
    by_cell = {cell.cell_id: cell for cell in history.cells}
    space, space_error = await _space(runtime)
    workspaces = {w.id: w.label for w in (await list_workspaces(runtime)).workspaces}
    context: dict[str, Any] = {
        "listing": listing,
        "sparks": {row.cell_id: _sparks(by_cell.get(row.cell_id), now) for row in listing.cells},
        "space": space,
        "space_error": space_error,
        "workspaces": workspaces,
        "refresh_ms": max(2000, round(listing.interval_s * 1000)),
    }
    if part is not None:
        return pages.part(request, "resources", part, **context)
    return pages.render(request, "resources/page.html", **context)
