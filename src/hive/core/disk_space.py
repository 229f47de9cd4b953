"""Room for new cells: when the cells root's file system is low, and what to say then.

Below 10% or 5 GB free a create goes ahead with a warning; below 1 GB it is refused,
naming the cells whose removal would free the most and the commands that free space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from hive.core.errors import ConflictError
from hive.core.sizes import GB, human_bytes

LOW_FREE_BYTES = 5 * GB
LOW_FREE_SHARE = 0.10
REFUSED_BELOW_BYTES = 1 * GB

#: The biggest cells a refusal names.
NAMED_CELLS = 5


@dataclass(frozen=True)
class DiskSpace:
    free_bytes: int
    """Free for an unprivileged user (what `df` calls available)."""
    total_bytes: int


FreeSpace = Callable[[Path], DiskSpace]
"""Reads the free space of the file system holding a path (blocking)."""


class SpaceLevel(StrEnum):
    OK = "ok"
    LOW = "low"
    REFUSED = "refused"


def space_level(space: DiskSpace) -> SpaceLevel:
    if space.free_bytes < REFUSED_BELOW_BYTES:
        return SpaceLevel.REFUSED
    share = space.free_bytes / space.total_bytes if space.total_bytes > 0 else 0.0
    if space.free_bytes < LOW_FREE_BYTES or share < LOW_FREE_SHARE:
        return SpaceLevel.LOW
    return SpaceLevel.OK


@dataclass(frozen=True)
class BigCell:
    id: str
    name: str
    own_bytes: int
    """What removing its worktree frees: allocated bytes less those cloned."""


def _free_text(space: DiskSpace, root: Path) -> str:
    share = space.free_bytes / space.total_bytes * 100 if space.total_bytes > 0 else 0.0
    return (
        f"{human_bytes(space.free_bytes)} free ({share:.0f}%) of "
        f"{human_bytes(space.total_bytes)} on the file system of {root}"
    )


def low_space_warning(space: DiskSpace, root: Path) -> str:
    return (
        f"low disk space: {_free_text(space, root)}; cells are refused below "
        f"{human_bytes(REFUSED_BELOW_BYTES)} (`hive gc` lists leftovers, `hive rm ID` "
        "removes a cell)"
    )


class InsufficientSpaceError(ConflictError):
    """Too little room to make a cell (409: nothing in the request is wrong)."""

    def __init__(self, space: DiskSpace, root: Path, biggest: Sequence[BigCell]) -> None:
        named = "; ".join(
            f"{cell.name} ({cell.id[:12]}) {human_bytes(cell.own_bytes)}" for cell in biggest
        )
        message = (
            f"not enough disk space to create a cell: {_free_text(space, root)}, "
            f"at least {human_bytes(REFUSED_BELOW_BYTES)} is needed"
        )
        if named:
            message += f"; biggest cells: {named}"
        example = f"`hive rm {biggest[0].id[:12]}`" if biggest else "`hive rm ID`"
        super().__init__(
            message,
            hint=f"free space: {example} removes a cell (its uncommitted work is kept as a "
            "snapshot), `hive gc` lists what no cell accounts for and `hive gc --apply` "
            "removes it",
        )
        self.space = space
        self.biggest = list(biggest)

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body.update(
            freeBytes=self.space.free_bytes,
            totalBytes=self.space.total_bytes,
            biggestCells=[
                {"id": cell.id, "name": cell.name, "ownBytes": cell.own_bytes}
                for cell in self.biggest
            ],
        )
        return body
