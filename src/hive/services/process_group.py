"""Stop a whole process group: SIGTERM, a grace period, then SIGKILL.

Every command Hive starts leads its own session (`start_new_session=True`), so its
pid is also its process-group id and nothing it forks can slip away from the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal


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


async def stop_process_group(
    pgid: int, *, grace: float, leader: asyncio.subprocess.Process | None = None
) -> None:
    """Terminate every process of group `pgid`; returns once none is left or all got KILL."""
    _signal_group(pgid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while loop.time() < deadline:
        if leader is not None and leader.returncode is None:
            # Reap the leader so it does not linger as a zombie member of the group.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(leader.wait(), timeout=0.05)
        if not _group_alive(pgid):
            return
        await asyncio.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)
    if leader is not None and leader.returncode is None:
        await leader.wait()
