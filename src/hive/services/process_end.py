"""Ending a running service's process for good: its `stop` command, then TERM → grace →
KILL of its group and of whatever carries its tag, then its watchers wound down."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hive.services.backend import ProcessBackend, TaggedProcess
from hive.services.handle import ServiceHandle
from hive.services.logs import ServiceLogs
from hive.services.process_tag import service_tag
from hive.services.service_setup import run_stop_command


async def end_handle(
    handle: ServiceHandle,
    *,
    backend: ProcessBackend,
    logs: ServiceLogs,
    grace_s: float,
    strays: Sequence[TaggedProcess] | None = None,
) -> None:
    """End `handle`'s process; `strays` is a tag scan the caller already made. Marks the
    handle stopping first, so its exit is not taken for a crash."""
    exited_before = handle.done.is_set()
    handle.stopping = True
    plan = handle.plan
    if plan.stop and handle.alive():
        log_path = logs.path(handle.cell_id, plan.name)
        await run_stop_command(plan, handle.worktree, log_path, grace_s=grace_s)
    if not handle.done.is_set():
        # Once it exited, the watcher already stopped the rest of its group; the pid
        # may since belong to someone else.
        if strays is None:
            strays = await backend.find_tagged(service_tag(handle.cell_id, plan.name))
        await asyncio.shield(backend.terminate(handle.pid, strays, grace=grace_s))
    if handle.cleanup is not None:
        # What its exited leader left (children holding the port) goes first.
        await asyncio.wait([handle.cleanup], timeout=2 * grace_s + 5)
    current = asyncio.current_task()
    for task in (handle.monitor, handle.recovery):
        if task is None or task is current:
            continue
        # A watcher of a process that exited earlier may be waiting out a restart's
        # pause: call that off now. Otherwise it reaps the exit and returns (stopping
        # is set).
        if exited_before:
            task.cancel()
        await asyncio.wait([task], timeout=grace_s)
        task.cancel()
