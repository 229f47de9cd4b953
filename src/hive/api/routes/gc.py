"""Leftovers no cell accounts for: list them, or remove them (`hive gc`)."""

from __future__ import annotations

from fastapi import APIRouter

from hive.api.deps import Runtime
from hive.api.schemas import CollectGarbage, FindingOut, Findings

router = APIRouter(prefix="/api/gc", tags=["maintenance"])


@router.get("")
async def scan(runtime: Runtime) -> Findings:
    """What a collection would remove, and why; nothing is touched."""
    return Findings(findings=[FindingOut.of(f) for f in await runtime.gc.scan()])


@router.post("")
async def collect(runtime: Runtime, body: CollectGarbage | None = None) -> Findings:
    """Remove what a scan finds; what could lose work only with `force`."""
    force = body.force if body is not None else False
    return Findings(findings=[FindingOut.of(f) for f in await runtime.gc.collect(force=force)])
