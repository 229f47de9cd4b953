"""Service processes known only from the database: still ours, and how to end them.

A server that did not start a process itself (it ran before a restart) knows it by its
record: pid and process start time. The pid alone proves nothing: it may be reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set

from hive.services.backend import ProcessBackend, TaggedProcess, is_same_process
from hive.services.process_tag import CELL_TAG_START, service_of_tag, service_tag
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


async def end_unrecorded(
    backend: ProcessBackend,
    cell_ids: Iterable[str],
    kept: Set[tuple[str, str]],
    *,
    grace: float,
) -> list[str]:
    """End the service processes of these cells that carry a service's tag but are not
    `kept` (adopted); labels of the services ended, `<cell id[:8]>/<name>`.

    A server killed between a service's spawn and its record left a process no record
    leads to: it would hold the service's port against the one started next. Only the
    tag finds it (one scan); other cells' processes (another server's) are not looked at.
    """
    cells = set(cell_ids)
    strays: list[TaggedProcess] = []
    owners: set[tuple[str, str]] = set()
    for process in await backend.find_tagged(CELL_TAG_START, prefix=True):
        owner = service_of_tag(process.tag)
        if owner is not None and owner[0] in cells and owner not in kept:
            strays.append(process)
            owners.add(owner)
    if strays:
        await backend.terminate(None, strays, grace=grace)
    return sorted(f"{cell[:8]}/{name}" for cell, name in owners)
