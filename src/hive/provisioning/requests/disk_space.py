"""Room for a new cell on the cells root's file system, checked as a create arrives."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hive.core.disk_space import (
    NAMED_CELLS,
    DiskSpace,
    FreeSpace,
    InsufficientSpaceError,
    SpaceLevel,
    low_space_warning,
    space_level,
)
from hive.store.cell_disk import CellDiskStore


class SpaceCheck:
    """`free_space` reads the file system (a thread's work); tests hand in their own
    through `Settings.free_space`."""

    def __init__(self, root: Path, disks: CellDiskStore, free_space: FreeSpace) -> None:
        self._root = root
        self._disks = disks
        self._free_space = free_space

    @property
    def root(self) -> Path:
        return self._root

    async def read(self) -> DiskSpace:
        """The room on the cells root's file system, read in a thread; OSError as is."""
        return await asyncio.to_thread(self._free_space, self._root)

    async def before_create(self) -> list[str]:
        """The warnings a create carries; raises InsufficientSpaceError (409) naming the
        biggest cells when there is too little room to make one."""
        try:
            space = await self.read()
        except OSError as exc:  # no reading is no reason to refuse: the create says so
            return [f"could not read the free space of {self._root}: {exc.strerror or exc}"]
        level = space_level(space)
        if level == SpaceLevel.REFUSED:
            raise InsufficientSpaceError(space, self._root, await self._disks.biggest(NAMED_CELLS))
        if level == SpaceLevel.LOW:
            return [low_space_warning(space, self._root)]
        return []
