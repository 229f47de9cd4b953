"""ResourceSampler: while the server runs, every `interval_s` it reads which processes
belong to which cell, measures them (in a worker thread: /proc reads block), keeps the
latest round in memory for the API's "now", and stores the samples, their rollups and
the cells' footprints. Every `prune_every_s` it drops what is past retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from hive.resources.ownership import claims_of
from hive.resources.process_table import ProcessReader, ProcessTable
from hive.resources.usage import SampleRound, footprints_of, samples_of, summarize
from hive.store.resources import ResourceStore

log = logging.getLogger(__name__)

#: How often old samples and rollups are deleted (seconds of the sampler's clock).
PRUNE_EVERY_S = 300.0
#: How long close() lets a round in progress finish before it cancels it.
_CLOSE_WAIT_S = 5.0


class ResourceSampler:
    def __init__(
        self,
        store: ResourceStore,
        *,
        interval_s: float,
        table: ProcessReader | None = None,
        clock: Callable[[], float] = time.time,
        prune_every_s: float = PRUNE_EVERY_S,
    ) -> None:
        self._store = store
        self.interval_s = interval_s
        self._table = table if table is not None else ProcessTable(clock=clock)
        self._clock = clock
        self._prune_every_s = prune_every_s
        self._last_prune: float | None = None
        self._latest: SampleRound | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._rounds = 0

    @property
    def latest(self) -> SampleRound | None:
        """The last round taken; None before the first."""
        return self._latest

    @property
    def rounds(self) -> int:
        """How many rounds were taken (a test waits on it)."""
        return self._rounds

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hive-resource-sampler")

    async def sample(self) -> SampleRound:
        """One round: find and read the cells' processes, store what was found."""
        targets = await self._store.targets()
        cells = frozenset(cell.id for cell in targets.cells)
        readings = await asyncio.to_thread(self._table.read, claims_of(targets), cells)
        sampled = summarize(self._clock(), readings)
        self._latest = sampled
        self._rounds += 1
        await self._store.record(samples_of(sampled), footprints_of(sampled, targets))
        if self._last_prune is None or sampled.at - self._last_prune >= self._prune_every_s:
            self._last_prune = sampled.at
            pruned = await self._store.prune(sampled.at)
            if pruned.samples or pruned.rollups:
                log.info("dropped %d samples, %d rollups", pruned.samples, pruned.rollups)
        return sampled

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            began = loop.time()
            try:
                await self.sample()
            except Exception:  # one bad round (a locked database) must not end sampling
                log.exception("resource sampling failed; trying again next round")
            wait = max(0.0, self.interval_s - (loop.time() - began))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=wait)

    async def close(self) -> None:
        """Stop sampling: a round in progress is let finish (its rows stored), briefly."""
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=_CLOSE_WAIT_S)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
