"""Helpers to watch real processes: wait for marker files, check that pids are gone."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import psutil

DEADLINE_S = 15.0


def is_gone(pid: int) -> bool:
    """True when `pid` no longer runs.

    A killed orphan is re-parented and may linger as a zombie until its new parent
    reaps it; `os.kill(pid, 0)` still succeeds on a zombie, so that counts as gone.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


async def wait_gone(pid: int, timeout: float = DEADLINE_S) -> bool:
    deadline = time.monotonic() + timeout
    while not is_gone(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def read_pid(path: Path, timeout: float = DEADLINE_S) -> int:
    """Wait until a command has written its pid to `path` (a whole line), then read it."""
    deadline = time.monotonic() + timeout
    while True:
        if path.is_file():
            text = path.read_text()
            if text.endswith("\n"):
                return int(text)
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} was never written")
        await asyncio.sleep(0.02)


def base_env(home: Path) -> dict[str, str]:
    """A small explicit environment, as Hive passes to commands."""
    return {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
