from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hive import __version__
from hive.api.deps import Runtime

router = APIRouter()


@router.get("/health")
async def health(runtime: Runtime) -> dict[str, Any]:
    """Open to all (no token): says nothing secret, the OpenCode server's password
    included."""
    return {"status": "ok", "version": __version__, "opencode": runtime.opencode.health()}
