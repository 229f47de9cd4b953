"""A process's identity = pid + start time, so a reused pid is never mistaken for ours."""

from __future__ import annotations

import psutil


def process_start_time(pid: int) -> float | None:
    """Start time of a live process, None when it is gone."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def is_same_process(pid: int, started: float) -> bool:
    current = process_start_time(pid)
    return current is not None and abs(current - started) < 0.01


def pid_exists(pid: int) -> bool:
    """Some process (ours or not, zombies included) has this pid."""
    return bool(psutil.pid_exists(pid))
