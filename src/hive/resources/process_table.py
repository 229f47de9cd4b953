"""Read the CPU and memory of every process that belongs to a cell (psutil; blocking).

A scan lists the pids and asks each for its process group (one system call). Only a
pid not seen before, or whose group changed, is looked at more closely: its start time
and its tag (its environment, read once). The processes found to be a cell's are then
read: RSS, and CPU since the previous scan.

CPU % needs two readings, so the table keeps each process's `psutil.Process` between
scans, keyed by pid and checked against its start time (a reused pid is a new
process). A process read for the first time gets its average over its life so far
(exact for one started since the last scan). Not thread-safe: one scan at a time.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import Protocol

import psutil

from hive.resources.ownership import GroupClaim, Seen, assign
from hive.resources.scopes import Owner
from hive.services.process_tag import TAG_VARIABLE

#: A process this young may still be between fork and exec, its environment not yet
#: its own: a tag missing now is looked for again at the next scan.
_SETTLED_S = 1.0
_COMMAND_CHARS = 300


@dataclass(frozen=True)
class ProcessReading:
    pid: int
    cell_id: str
    scope: str
    command: str
    cpu_percent: float
    """Percent of one core since the previous scan."""
    rss_bytes: int


class ProcessReader(Protocol):
    def read(self, claims: Sequence[GroupClaim], cells: Container[str]) -> list[ProcessReading]:
        """Every live process of one of `cells`, read now (blocking)."""
        ...


@dataclass
class _Entry:
    process: psutil.Process
    pgid: int
    create_time: float
    tag: str | None
    tag_settled: bool
    command: str | None = None
    primed: bool = False
    """cpu_percent(None) has a previous reading to measure from."""

    def seen(self) -> Seen:
        return Seen(self.process.pid, self.pgid, self.create_time, self.tag)


def _tag(process: psutil.Process) -> str | None:
    try:
        tag: str | None = process.environ().get(TAG_VARIABLE)
    except psutil.Error:  # gone, a zombie, or another user's
        return None
    return tag


def _command(process: psutil.Process) -> str:
    try:
        text = " ".join(process.cmdline()) or process.name()
    except psutil.Error:
        text = "?"
    return text[:_COMMAND_CHARS]


class ProcessTable:
    def __init__(self, *, own_pid: int | None = None, clock: Callable[[], float] = time.time):
        self._own_pid = os.getpid() if own_pid is None else own_pid
        self._clock = clock
        self._entries: dict[int, _Entry] = {}

    def read(self, claims: Sequence[GroupClaim], cells: Container[str]) -> list[ProcessReading]:
        now = self._clock()
        current: dict[int, _Entry] = {}
        for pid in psutil.pids():
            if pid == self._own_pid:
                continue
            entry = self._entry(pid, now)
            if entry is not None:
                current[pid] = entry
        self._entries = current
        owners = assign((entry.seen() for entry in current.values()), claims, cells)
        readings = []
        for pid, owner in owners.items():
            reading = self._reading(current[pid], owner, now)
            if reading is not None:
                readings.append(reading)
        return readings

    def _entry(self, pid: int, now: float) -> _Entry | None:
        try:
            pgid = os.getpgid(pid)
        except OSError:  # gone since the listing
            return None
        entry = self._entries.get(pid)
        if entry is None or entry.pgid != pgid:
            return self._inspect(pid, pgid, now)
        if not entry.tag_settled:
            entry.tag = _tag(entry.process)
            entry.tag_settled = now - entry.create_time >= _SETTLED_S
        return entry

    @staticmethod
    def _inspect(pid: int, pgid: int, now: float) -> _Entry | None:
        try:
            process = psutil.Process(pid)
            started = process.create_time()
        except psutil.Error:
            return None
        return _Entry(process, pgid, started, _tag(process), now - started >= _SETTLED_S)

    def _reading(self, entry: _Entry, owner: Owner, now: float) -> ProcessReading | None:
        process = entry.process
        # A process read before must still be the one the pid named then; the scan
        # found a new one in its place only if its group changed too.
        if entry.primed and not process.is_running():
            self._entries.pop(process.pid, None)
            return None
        try:
            with process.oneshot():
                if process.status() == psutil.STATUS_ZOMBIE:
                    return None
                rss = int(process.memory_info().rss)
                if entry.primed:
                    cpu = float(process.cpu_percent(None))
                else:
                    times = process.cpu_times()
                    age = max(now - entry.create_time, 1e-3)
                    cpu = round((times.user + times.system) / age * 100, 1)
                    with contextlib.suppress(psutil.Error):
                        process.cpu_percent(None)  # the reading the next scan measures from
                    entry.primed = True
        except psutil.Error:
            return None
        if entry.command is None:
            entry.command = _command(process)
        return ProcessReading(process.pid, owner.cell_id, owner.scope, entry.command, cpu, rss)
