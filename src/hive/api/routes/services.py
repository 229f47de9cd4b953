"""A cell's services: list, start, stop, restart (same port), logs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from hive.api.deps import Runtime

router = APIRouter(prefix="/api/cells/{cell_id}/services", tags=["services"])


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


@router.get("/{name}/logs", response_class=PlainTextResponse)
async def logs(
    cell_id: str, name: str, runtime: Runtime, tail: int = Query(default=200, ge=1, le=10_000)
) -> str:
    return await runtime.services.logs(cell_id, name, tail)
