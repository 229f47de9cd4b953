"""`/`: every workspace with its cells (status, agent, memory, disk, actions), live from
the workspace streams."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hive.api.deps import Runtime
from hive.api.routes.cells import list_cells
from hive.api.routes.resources import list_resources
from hive.api.routes.workspaces import list_workspaces
from hive.resources.reports import ResourceSort
from hive.web.deps import Pages
from hive.web.page_route import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The resource figures are re-read this often at most; no stream tells of them.
_MIN_REFRESH_S = 1.0


@router.get("/")
async def home(
    request: Request, runtime: Runtime, pages: Pages, part: str | None = None
) -> HTMLResponse:
    # Read before the cells: whatever happens after it, the streams resume from it.
    after = await runtime.stores.events.last_id()
    workspaces = (await list_workspaces(runtime)).workspaces
    cells = (await list_cells(runtime, workspace_id=None)).cells
    resources = await list_resources(runtime, workspace_id=None, sort=ResourceSort.NAME)
    context: dict[str, Any] = {
        "workspaces": workspaces,
        "cells": cells,
        "resources": {row.cell_id: row for row in resources.cells},
        "after": after,
        # The figures change once a sample: re-reading them faster shows nothing new.
        "refresh_ms": round(1000 * max(resources.interval_s, _MIN_REFRESH_S)),
    }
    if part is not None:
        return pages.part(request, "home", part, **context)
    return pages.render(request, "home/page.html", **context)
