"""`/cells/{id}`: one cell. While it is provisioned, its checklist (live from the cell's
streams); in error, the failure and Retry; once ready, its worktree, services, prompt
and agent. Every figure comes from the API's own route functions."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hive.api.deps import Runtime
from hive.api.resource_schemas import CellResourcesOut
from hive.api.routes.cells import get_cell, get_prompt
from hive.api.routes.resources import cell_resources
from hive.api.routes.services import list_services
from hive.api.routes.services import logs as service_logs
from hive.api.routes.setup_log import END_HEADER, setup_log
from hive.api.routes.timings import cell_timings
from hive.api.schemas import CellOut, ServiceOut, Timings
from hive.core.errors import HiveError
from hive.runtime import HiveRuntime
from hive.web.cell_checklist import checklist, current_attempt
from hive.web.deps import Pages
from hive.web.page_route import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PROVISIONING = frozenset({"pending", "spawning"})
#: Lines of setup output and of each service's log the page starts with.
_LOG_TAIL = 40


@router.get("/cells/{cell_id}")
async def cell_page(
    cell_id: str, request: Request, runtime: Runtime, pages: Pages, part: str | None = None
) -> HTMLResponse:
    # Read first: the streams the page opens go on after it, so nothing falls between
    # what the page shows and what they tell.
    cursor = await runtime.stores.events.last_id()
    cell = await get_cell(cell_id, runtime)  # 404 page for an unknown id
    context = await _context(runtime, cell, part)
    context["event_cursor"] = cursor
    if part is not None:
        return pages.part(request, "cell", part, **context)
    return pages.render(request, "cell/page.html", **context)


async def _context(runtime: HiveRuntime, cell: CellOut, part: str | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "cell": cell,
        "provisioning": cell.status in PROVISIONING,
        "rows": [],
        "setup_output": "",
        "log_end": 0,
        "services": [],
        "usage": {},
        "service_logs": {},
        "prompt": None,
    }
    if cell.status in PROVISIONING or cell.status == "error":
        timings = await cell_timings(cell.id, runtime, view="steps")
        steps = timings.steps if isinstance(timings, Timings) else []  # steps, as asked
        context["rows"] = checklist(cell, steps)
    if cell.status in PROVISIONING:
        log = await setup_log(cell.id, runtime, tail=_LOG_TAIL)
        context["setup_output"] = current_attempt(bytes(log.body).decode())
        context["log_end"] = int(log.headers[END_HEADER])
    if cell.status in {"ready", "archived"} and part in (None, "view", "services"):
        services = (await list_services(cell.id, runtime)).services
        context["services"] = services
        context["usage"] = await _usage(runtime, cell.id)
        if part in (None, "view"):
            context["service_logs"] = await _service_logs(runtime, cell.id, services)
            with contextlib.suppress(HiveError):  # 409 until assemble_prompt wrote it
                context["prompt"] = await get_prompt(cell.id, runtime)
    return context


async def _usage(runtime: HiveRuntime, cell_id: str) -> dict[str, Any]:
    """Each service's CPU and memory now, by name: none before a sample has found one
    of its processes."""
    try:
        report: CellResourcesOut = await cell_resources(cell_id, runtime)
    except HiveError:
        return {}
    return {s.name: s.now for s in report.services if s.now and s.now.processes}


async def _service_logs(
    runtime: HiveRuntime, cell_id: str, services: list[ServiceOut]
) -> dict[str, str]:
    tails: dict[str, str] = {}
    for service in services:
        with contextlib.suppress(HiveError):  # a service that never ran has no log
            text = await service_logs(cell_id, service.name, runtime, tail=_LOG_TAIL)
            tails[service.name] = text if isinstance(text, str) else ""
    return tails
