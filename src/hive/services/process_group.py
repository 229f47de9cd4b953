"""Stop a whole process group: SIGTERM, a grace period, then SIGKILL.

Every command Hive starts leads its own session (`start_new_session=True`), so its
pid is also its process-group id and whatever it forks stays in the group, unless it
leaves on purpose (`setsid`, a daemon's double fork): those are found by their
`process_tag` and stopped along with the group. Scans and liveness checks read /proc,
so they run in worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence

import psutil

from hive.services.process_tag import find_tagged

_POLL_S = 0.05


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal_process(process: psutil.Process, sig: signal.Signals) -> None:
    # psutil checks the pid still names the same process before it signals.
    with contextlib.suppress(psutil.Error):
        process.send_signal(sig)


def _alive(process: psutil.Process) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _signal_all(pgid: int | None, strays: Sequence[psutil.Process], sig: signal.Signals) -> None:
    if pgid is not None:
        _signal_group(pgid, sig)
    for process in strays:
        _signal_process(process, sig)


def _still_there(
    pgid: int | None, strays: Sequence[psutil.Process]
) -> tuple[bool, list[psutil.Process]]:
    """Whether the group still has members, and the strays still alive."""
    return pgid is not None and _group_alive(pgid), [p for p in strays if _alive(p)]


async def stop_process_group(
    pgid: int,
    *,
    grace: float,
    leader: asyncio.subprocess.Process | None = None,
    tag: str | None = None,
    strays: Sequence[psutil.Process] = (),
) -> None:
    """Terminate every process of group `pgid`, plus `strays` and every process carrying
    `tag` that left the group; returns once none is left or all got KILL."""
    found = await asyncio.to_thread(find_tagged, tag) if tag else []
    await terminate(pgid, [*strays, *found], grace=grace, leader=leader)


async def stop_tagged(tag: str, *, grace: float, prefix: bool = False) -> int:
    """Terminate every process carrying `tag` (with `prefix`, any tag starting with it),
    wherever it is; returns how many there were."""
    strays = await asyncio.to_thread(find_tagged, tag, prefix=prefix)
    if strays:
        await terminate(None, strays, grace=grace)
    return len(strays)


async def terminate(
    pgid: int | None,
    strays: Sequence[psutil.Process],
    *,
    grace: float,
    leader: asyncio.subprocess.Process | None = None,
) -> None:
    """TERM the group and the strays, wait up to `grace` for all of them, then KILL."""
    # Only processes found before the first signal are stopped: one started later with
    # the same tag (a service started again) is not ours to end.
    await asyncio.to_thread(_signal_all, pgid, strays, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    left = list(strays)
    while loop.time() < deadline:
        if leader is not None and leader.returncode is None:
            # Reap the leader so it does not linger as a zombie member of the group.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(leader.wait(), timeout=_POLL_S)
        group_left, left = await asyncio.to_thread(_still_there, pgid, left)
        if not group_left and not left:
            return
        await asyncio.sleep(_POLL_S)
    await asyncio.to_thread(_signal_all, pgid, left, signal.SIGKILL)
    if leader is not None and leader.returncode is None:
        await leader.wait()
