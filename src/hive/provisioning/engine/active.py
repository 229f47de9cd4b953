"""The asyncio tasks of running workflows, per cell: one create (or retry) and one
delete at most. They cannot outlive the process; everything a restarted server needs
is in the database."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from hive.provisioning.engine.context import Cancellation

T = TypeVar("T")


class ActiveRuns:
    def __init__(self, cancel_timeout_s: float) -> None:
        self._cancel_timeout_s = cancel_timeout_s
        self._creates: dict[str, tuple[asyncio.Task[None], Cancellation]] = {}
        self._deletes: dict[str, asyncio.Task[Any]] = {}

    def is_running(self, cell_id: str) -> bool:
        entry = self._creates.get(cell_id)
        return entry is not None and not entry[0].done()

    def start_create(
        self, cell_id: str, work: Coroutine[Any, Any, None], cancellation: Cancellation
    ) -> None:
        task = asyncio.create_task(work, name=f"create:{cell_id}")
        self._creates[cell_id] = (task, cancellation)
        task.add_done_callback(lambda done: self._forget_create(cell_id, done))

    async def wait_create(self, cell_id: str, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the cell's create or retry task to end; True when
        none is left running."""
        entry = self._creates.get(cell_id)
        if entry is not None and not entry[0].done():
            await asyncio.wait([entry[0]], timeout=timeout_s)
        return not self.is_running(cell_id)

    def delete_task(self, cell_id: str) -> asyncio.Task[Any] | None:
        task = self._deletes.get(cell_id)
        return task if task is not None and not task.done() else None

    def start_delete(self, cell_id: str, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.create_task(work, name=f"delete:{cell_id}")
        self._deletes[cell_id] = task
        task.add_done_callback(lambda done: self._forget_delete(cell_id, done))
        return task

    async def cancel(self, cell_id: str, reason: str = "the cell is being deleted") -> bool:
        """Stop the cell's running create or retry, if any, and wait (bounded) until it
        has unwound; True when one was running."""
        entry = self._creates.get(cell_id)
        if entry is None or entry[0].done():
            return False
        task, cancellation = entry
        cancellation.reason = reason
        task.cancel()
        await asyncio.wait([task], timeout=self._cancel_timeout_s)
        return True

    async def close(self, reason: str) -> None:
        """Cancel running creates, let deletes finish (bounded)."""
        creates = [task for task, cancellation in self._creates.values() if not task.done()]
        for task, cancellation in self._creates.values():
            if not task.done():
                cancellation.reason = reason
                task.cancel()
        pending = creates + [task for task in self._deletes.values() if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=self._cancel_timeout_s)

    def _forget_create(self, cell_id: str, done: asyncio.Task[None]) -> None:
        entry = self._creates.get(cell_id)
        if entry is not None and entry[0] is done:
            del self._creates[cell_id]

    def _forget_delete(self, cell_id: str, done: asyncio.Task[Any]) -> None:
        if self._deletes.get(cell_id) is done:
            del self._deletes[cell_id]
