"""`/`: every workspace with its cells, live from the workspace streams."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hive.api.deps import Runtime
from hive.api.routes.cells import list_cells
from hive.api.routes.workspaces import list_workspaces
from hive.web.deps import Pages
from hive.web.page_route import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
async def home(
    request: Request, runtime: Runtime, pages: Pages, part: str | None = None
) -> HTMLResponse:
    workspaces = (await list_workspaces(runtime)).workspaces
    cells = (await list_cells(runtime, workspace_id=None)).cells
    context: dict[str, Any] = {"workspaces": workspaces, "cells": cells}
    if part is not None:
        return pages.part(request, "home", part, **context)
    return pages.render(request, "home/page.html", **context)
