"""Setup process groups on record while they run, so a server killed meanwhile leaves
nothing the next start cannot stop (`stop_orphans`)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from hive.services.backend import ProcessBackend, is_same_process
from hive.services.process_tag import setup_prefix
from hive.services.shell import ProcessTracker
from hive.store.processes import ProcessStore

log = logging.getLogger(__name__)


class ProcessRecords:
    def __init__(self, store: ProcessStore, backend: ProcessBackend) -> None:
        self._store = store
        self._backend = backend

    @asynccontextmanager
    async def track(
        self, pid: int, *, cell_id: str, kind: str, command: str
    ) -> AsyncIterator[None]:
        """Keep the process group `pid` on record while the block runs."""
        started = await self._backend.start_time(pid)
        if started is None:  # already gone: nothing could be orphaned
            yield
            return
        record_id = await self._store.add(cell_id, kind, pid, started, command)
        try:
            yield
        finally:
            await asyncio.shield(self._store.remove(record_id))

    def trackers(self, cell_id: str, kind: str) -> Callable[[str], ProcessTracker]:
        """Per command of `kind`, the tracker that keeps its process group on record."""
        return lambda command: functools.partial(
            self.track, cell_id=cell_id, kind=kind, command=command
        )

    async def stop_orphans(self, *, grace_s: float) -> list[str]:
        """Stop the setup process groups a killed server left running, and whatever
        carries those cells' setup tags; returns the cells they belonged to."""
        orphans = await self._store.list()
        for orphan in orphans:
            if await is_same_process(self._backend, orphan.pid, orphan.process_started):
                log.warning(
                    "stopping orphaned %s process %d: %s", orphan.kind, orphan.pid, orphan.command
                )
                await self._backend.terminate(orphan.pid, [], grace=grace_s)
            await self._store.remove(orphan.id)
        cells = sorted({orphan.cell_id for orphan in orphans})
        for cell_id in cells:
            # No setup runs yet: whatever a setup command left outside its group goes.
            strays = await self._backend.find_tagged(setup_prefix(cell_id), prefix=True)
            if strays:
                await self._backend.terminate(None, strays, grace=grace_s)
                log.warning("stopped %d process(es) left by setup of cell %s", len(strays), cell_id)
        return cells
