"""Service processes known only from the database: still ours, and how to end them.

A server that did not start a process itself (it ran before a restart) knows it by its
record: pid and process start time. The pid alone proves nothing: it may be reused.
"""

from __future__ import annotations

from collections.abc import Sequence

from hive.services.backend import ProcessBackend, TaggedProcess, is_same_process
from hive.services.process_tag import service_tag
from hive.store.services import ServiceRecord


async def still_running(backend: ProcessBackend, record: ServiceRecord) -> bool:
    """The recorded process is alive and is the one that was started (not a reused pid)."""
    if record.pid is None or record.process_started is None:
        return False
    return await is_same_process(backend, record.pid, record.process_started)


async def end_recorded(
    backend: ProcessBackend,
    record: ServiceRecord,
    *,
    running: bool,
    grace: float,
    strays: Sequence[TaggedProcess] | None = None,
) -> None:
    """End what is left of a recorded service: its group and whatever carries its tag.

    `running` is `still_running(record)`, asked by the caller; `strays` a tag scan the
    caller already made.
    """
    if record.pid is None:
        return
    if strays is None:
        strays = await backend.find_tagged(service_tag(record.cell_id, record.name))
    if running or not await backend.pid_exists(record.pid):
        # Alive; or the leader died while nobody watched, and what it left in its group
        # (the group id stays reserved while they live) would hold the port forever.
        await backend.terminate(record.pid, strays, grace=grace)
    elif strays:  # the pid is someone else's now: only the tag is safe to follow
        await backend.terminate(None, strays, grace=grace)
