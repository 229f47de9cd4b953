"""A cell's services: list, start, stop, restart (same port), logs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, StreamingResponse

from hive.api.deps import Runtime
from hive.api.schemas import ServiceList, ServiceOut
from hive.services.logs import follow as follow_log

router = APIRouter(prefix="/api/cells/{cell_id}/services", tags=["services"])


@router.get("")
async def list_services(cell_id: str, runtime: Runtime) -> ServiceList:
    return ServiceList(services=[ServiceOut.of(s) for s in await runtime.services.list(cell_id)])


@router.post("/{name}/start")
async def start_service(cell_id: str, name: str, runtime: Runtime) -> ServiceOut:
    """Run its setup commands and start it; answers once it is ready (or failed: 502)."""
    return ServiceOut.of(await runtime.services.start(cell_id, name))


@router.post("/{name}/stop")
async def stop_service(cell_id: str, name: str, runtime: Runtime) -> ServiceOut:
    """Its stop command, then TERM, grace, KILL of its process group."""
    return ServiceOut.of(await runtime.services.stop(cell_id, name))


@router.post("/{name}/restart")
async def restart_service(cell_id: str, name: str, runtime: Runtime) -> ServiceOut:
    """Stop and start again on the same port, with its restart budget whole again."""
    return ServiceOut.of(await runtime.services.restart(cell_id, name))


@router.get("/{name}/logs", response_class=PlainTextResponse, response_model=None)
async def logs(
    cell_id: str,
    name: str,
    runtime: Runtime,
    tail: int = Query(default=200, ge=1, le=10_000),
    follow: bool = False,
) -> str | StreamingResponse:
    """The last `tail` lines; with `follow=true`, then every new line as it is written,
    through quiet spells, until the service is gone or the client leaves."""
    text = await runtime.services.logs(cell_id, name, tail)
    if not follow:
        return text
    path = runtime.supervisor.logs.path(cell_id, name)
    start = (await asyncio.to_thread(path.stat)).st_size

    async def stream() -> AsyncIterator[str]:
        if text:
            yield text + "\n"
        # Ends once the service is gone (stopped, crashed, its cell deleted) and its
        # last lines are out, so neither the client nor a shutdown waits forever.
        lines = follow_log(
            path, start=start, until=lambda: not runtime.supervisor.running(cell_id, name)
        )
        async for line in lines:
            yield line + "\n"

    return StreamingResponse(stream(), media_type="text/plain")
