"""Stop a whole process group: SIGTERM, a grace period, then SIGKILL.

Every command Hive starts leads its own session (`start_new_session=True`), so its
pid is also its process-group id and whatever it forks stays in the group, unless it
leaves on purpose (`setsid`, a daemon's double fork): those are found by their
`process_tag` and stopped along with the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

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


async def stop_process_group(
    pgid: int,
    *,
    grace: float,
    leader: asyncio.subprocess.Process | None = None,
    tag: str | None = None,
) -> None:
    """Terminate every process of group `pgid`, and every process carrying `tag` that
    left the group; returns once none is left or all got KILL."""
    strays = await asyncio.to_thread(find_tagged, tag) if tag else []
    await _terminate(pgid, strays, grace, leader)


async def stop_tagged(tag: str, *, grace: float, prefix: bool = False) -> int:
    """Terminate every process carrying `tag` (with `prefix`, any tag starting with it),
    wherever it is; returns how many there were."""
    strays = await asyncio.to_thread(find_tagged, tag, prefix=prefix)
    if strays:
        await _terminate(None, strays, grace, None)
    return len(strays)


async def _terminate(
    pgid: int | None,
    strays: list[psutil.Process],
    grace: float,
    leader: asyncio.subprocess.Process | None,
) -> None:
    # Only processes found before the first signal are stopped: one started later with
    # the same tag (a service started again) is not ours to end.
    if pgid is not None:
        _signal_group(pgid, signal.SIGTERM)
    for process in strays:
        _signal_process(process, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while loop.time() < deadline:
        if leader is not None and leader.returncode is None:
            # Reap the leader so it does not linger as a zombie member of the group.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(leader.wait(), timeout=_POLL_S)
        group_left = pgid is not None and _group_alive(pgid)
        strays = [process for process in strays if _alive(process)]
        if not group_left and not strays:
            return
        await asyncio.sleep(_POLL_S)
    if pgid is not None:
        _signal_group(pgid, signal.SIGKILL)
    for process in strays:
        _signal_process(process, signal.SIGKILL)
    if leader is not None and leader.returncode is None:
        await leader.wait()
