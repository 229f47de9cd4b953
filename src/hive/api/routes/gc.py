"""Leftovers no cell accounts for: list them, or remove them (`hive gc`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from hive.api.deps import Runtime
from hive.maintenance.gc import Finding

router = APIRouter(prefix="/api/gc", tags=["maintenance"])


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class FindingOut(_Body):
    kind: Literal["worktree", "worktree_entry", "branch", "lease", "process"]
    target: str
    """The path, branch, port or pid."""
    reason: str
    workspace: str | None
    kept_unless_forced: str | None
    """Why removing it could lose work (uncommitted changes, commits on no other branch)."""
    outcome: str | None
    """After a collection: `removed`, `kept: …` or `failed: …`."""

    @classmethod
    def of(cls, finding: Finding) -> FindingOut:
        return cls.model_validate(finding, from_attributes=True)


class Findings(_Body):
    findings: list[FindingOut]


class Collect(_Body):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    force: bool = False
    """Also what could lose work."""


@router.get("")
async def scan(runtime: Runtime) -> Findings:
    """What a collection would remove, and why; nothing is touched."""
    return Findings(findings=[FindingOut.of(f) for f in await runtime.gc.scan()])


@router.post("")
async def collect(runtime: Runtime, body: Collect | None = None) -> Findings:
    """Remove what a scan finds; what could lose work only with `force`."""
    force = body.force if body is not None else False
    return Findings(findings=[FindingOut.of(f) for f in await runtime.gc.collect(force=force)])
