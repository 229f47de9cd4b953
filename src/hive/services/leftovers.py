"""Service processes known only from the database: still ours, and how to end them.

A server that did not start a process itself (it ran before a restart) knows it by its
record: pid and process start time. The pid alone proves nothing: it may be reused.
"""

from __future__ import annotations

import asyncio

from hive.services.identity import is_same_process, pid_exists
from hive.services.process_group import stop_process_group, stop_tagged
from hive.services.process_tag import service_tag
from hive.store.services import ServiceRecord


async def still_running(record: ServiceRecord) -> bool:
    """The recorded process is alive and is the one that was started (not a reused pid)."""
    if record.pid is None or record.process_started is None:
        return False
    return await asyncio.to_thread(is_same_process, record.pid, record.process_started)


async def end_recorded(record: ServiceRecord, *, running: bool, grace: float) -> None:
    """End what is left of a recorded service: its group and whatever carries its tag.

    `running` is `still_running(record)`, asked by the caller.
    """
    if record.pid is None:
        return
    tag = service_tag(record.cell_id, record.name)
    if running or not await asyncio.to_thread(pid_exists, record.pid):
        # Alive; or the leader died while nobody watched, and what it left in its group
        # (the group id stays reserved while they live) would hold the port forever.
        await stop_process_group(record.pid, grace=grace, tag=tag)
    else:  # the pid is someone else's now: only the tag is safe to follow
        await stop_tagged(tag, grace=grace)
