"""A cell's services: list, start, stop, restart (same port), logs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, StreamingResponse

from hive.api.deps import Runtime
from hive.services.logs import follow as follow_log

router = APIRouter(prefix="/api/cells/{cell_id}/services", tags=["services"])

_STILL_THERE_S = 1.0


@router.get("")
async def list_services(cell_id: str, runtime: Runtime) -> dict[str, Any]:
    return {"services": await runtime.services.list(cell_id)}


@router.post("/{name}/{action}")
async def act(
    cell_id: str, name: str, action: Literal["start", "stop", "restart"], runtime: Runtime
) -> dict[str, Any]:
    control = runtime.services
    handler = {"start": control.start, "stop": control.stop, "restart": control.restart}[action]
    return await handler(cell_id, name)


@router.get("/{name}/logs", response_class=PlainTextResponse, response_model=None)
async def logs(
    cell_id: str,
    name: str,
    runtime: Runtime,
    tail: int = Query(default=200, ge=1, le=10_000),
    follow: bool = False,
) -> str | StreamingResponse:
    """The last `tail` lines; with `follow=true`, then every new line as it is written."""
    text = await runtime.services.logs(cell_id, name, tail)
    if not follow:
        return text
    path = runtime.supervisor.logs.path(cell_id, name)
    start = (await asyncio.to_thread(path.stat)).st_size

    async def stream() -> AsyncIterator[str]:
        if text:
            yield text + "\n"
        lines = follow_log(path, start=start)
        try:
            while True:
                try:
                    line = await asyncio.wait_for(anext(lines), timeout=_STILL_THERE_S)
                except TimeoutError:
                    # Nothing new: end once the service is gone (stopped, crashed, its cell
                    # deleted) so neither the client nor a server shutdown waits forever.
                    if not runtime.supervisor.running(cell_id, name):
                        return
                    continue
                yield line + "\n"
        finally:
            await lines.aclose()

    return StreamingResponse(stream(), media_type="text/plain")
