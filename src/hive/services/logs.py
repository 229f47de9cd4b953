"""Per-service log files, bounded in size: `x.log`, then `x.log.1`, `x.log.2` … older.

A service writes straight into its log through a descriptor opened with O_APPEND, so
the log can be rotated under a running process by copy-truncate: after the truncate
its next write lands at the new end, the start of the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from pathlib import Path

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
ROTATE_EVERY_S = 5.0
_BLOCK = 64 * 1024
_FOLLOW_READ_MAX = 1 << 20


class ServiceLog:
    """One service's log file and its rotations. Every method blocks: call it in a thread."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES, keep: int = 2) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep

    def rotated(self, index: int) -> Path:
        """The path of the `index`-th older file (1 is the most recent)."""
        return self.path.with_name(f"{self.path.name}.{index}")

    def open_for_process(self) -> tuple[int, int]:
        """Open the log for a new run of the service: (descriptor, where its output starts).

        Rotates first when the file is over `max_bytes`. The caller passes the
        descriptor to the process as stdout/stderr and closes its own copy.
        """
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._size(self.path) > self.max_bytes:
            self._shift()
            if self.keep > 0:
                self.path.replace(self.rotated(1))
            else:
                self.path.unlink(missing_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            stamp = datetime.now().astimezone().isoformat(timespec="seconds")
            os.write(fd, f"[hive] started {stamp}\n".encode())
            return fd, os.lseek(fd, 0, os.SEEK_CUR)
        except BaseException:
            os.close(fd)
            raise

    def rotate_if_large(self) -> bool:
        """Copy-truncate the log if it is over `max_bytes`; True when it rotated.

        Safe while a process appends to it (O_APPEND); only what it writes between the
        end of the copy and the truncate is lost.
        """
        if self._size(self.path) <= self.max_bytes:
            return False
        self._shift()
        if self.keep > 0:
            # The copy is as private as the log (it may hold secrets a service printed).
            target_fd = os.open(self.rotated(1), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with self.path.open("rb") as source, os.fdopen(target_fd, "wb") as target:
                shutil.copyfileobj(source, target, _BLOCK)
                os.truncate(self.path, 0)
        else:
            os.truncate(self.path, 0)
        return True

    def tail(self, lines: int) -> str:
        """The last `lines` lines, reaching into the previous file if the current is short."""
        if lines <= 0:
            return ""
        found = _last_lines(self.path, lines)
        if len(found) < lines and self.keep > 0:
            found = _last_lines(self.rotated(1), lines - len(found)) + found
        return "\n".join(found)

    def _shift(self) -> None:
        """Make room for a new `.1`: drop the oldest, move every other one up by one."""
        if self.keep <= 0:
            return
        self.rotated(self.keep).unlink(missing_ok=True)
        for index in range(self.keep - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                self.rotated(index).replace(self.rotated(index + 1))

    @staticmethod
    def _size(path: Path) -> int:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0


class ServiceLogs:
    """Every service's log under one root, `<root>/<cell>/<service>.log`, kept rotated
    while its service runs."""

    def __init__(self, root: Path, rotate_every_s: float = ROTATE_EVERY_S) -> None:
        self._root = root
        self._rotate_every_s = rotate_every_s
        self._rotator: asyncio.Task[None] | None = None

    def path(self, cell_id: str, name: str) -> Path:
        return self._root / cell_id / f"{name}.log"

    def log(self, cell_id: str, name: str) -> ServiceLog:
        return ServiceLog(self.path(cell_id, name))

    async def tail(self, cell_id: str, name: str, lines: int = 40) -> str:
        return await asyncio.to_thread(self.log(cell_id, name).tail, lines)

    def keep_rotated(self, running: Callable[[], list[tuple[str, str]]]) -> asyncio.Task[None]:
        """Rotate the logs of the `(cell, service)`s `running()` names, every few
        seconds, until it names none; call again when a service starts.

        Returns the task that rotates them (the one already running, if any): it ends
        by itself once `running()` names nobody.
        """
        if self._rotator is None or self._rotator.done():
            self._rotator = asyncio.create_task(self._rotate(running), name="rotate-logs")
        return self._rotator

    async def _rotate(self, running: Callable[[], list[tuple[str, str]]]) -> None:
        while running():
            await asyncio.sleep(self._rotate_every_s)
            for cell_id, name in running():
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(self.log(cell_id, name).rotate_if_large)

    async def close(self) -> None:
        if self._rotator is not None:
            self._rotator.cancel()
            await asyncio.wait([self._rotator])


def _last_lines(path: Path, count: int) -> list[str]:
    """The last `count` lines of a file, read backwards in blocks."""
    try:
        with path.open("rb") as handle:
            position = handle.seek(0, os.SEEK_END)
            data = b""
            # count + 1 newlines: the trailing one, and one before the first line wanted.
            while position > 0 and data.count(b"\n") <= count:
                step = min(_BLOCK, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
    except FileNotFoundError:
        return []
    found = data.decode("utf-8", errors="replace").splitlines()
    return found[-count:]


async def follow(
    path: Path,
    *,
    start: int,
    poll_s: float = 0.2,
    until: Callable[[], bool] | None = None,
) -> AsyncGenerator[str, None]:
    """Yield each complete line appended to `path` after byte `start`, without its newline.

    Runs through quiet spells until the consumer stops, or, with `until`, until a read
    finds nothing new after `until()` became true (what was written before is yielded
    first). Survives rotation: when the file shrinks below what was read (copy-truncate)
    or is replaced by a new file, it reads again from byte 0.
    """
    cursor = _Cursor(path, start)
    pending = b""
    while True:
        finished = until is not None and until()
        data, restarted = await asyncio.to_thread(cursor.read)
        if restarted:
            pending = b""
        if not data:
            if finished:
                return
            await asyncio.sleep(poll_s)
            continue
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            yield line.decode("utf-8", errors="replace").removesuffix("\r")


class _Cursor:
    """Where `follow` is in the file, and which file (inode) that offset belongs to."""

    def __init__(self, path: Path, offset: int) -> None:
        self._path = path
        self._offset = offset
        self._inode: int | None = None

    def read(self) -> tuple[bytes, bool]:
        """New bytes, and whether reading started over at byte 0 of a rotated file."""
        try:
            with self._path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                restarted = False
                replaced = self._inode is not None and stat.st_ino != self._inode
                if replaced or stat.st_size < self._offset:
                    self._offset = 0
                    restarted = True
                self._inode = stat.st_ino
                handle.seek(self._offset)
                data = handle.read(_FOLLOW_READ_MAX)
        except FileNotFoundError:
            return b"", False
        self._offset += len(data)
        return data, restarted
