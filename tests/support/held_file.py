"""Hold a copy at a known file: while held, another process's open() of it waits.

A write lease (`fcntl F_SETLEASE`) on a file makes the kernel stop any other open of
it until the lease holder lets go (or `/proc/sys/fs/lease-break-time`, 45 s by default,
passes). A copier that reaches the file is thereby held part-way, at a point the test
can see (the lease is "breaking") and end when it chooses: no test has to hope that a
copy is still running when it looks.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path
from types import TracebackType
from typing import Any


class HeldFile:
    """`with HeldFile(path) as held:` — opens of `path` by others wait until `release()`.

    For files that are read (a copy's source): a write lease is broken towards a read
    lease, which tells a hold that still stands from one the kernel ended. Only in the
    main thread (it ignores SIGIO, the lease's notice, meanwhile).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._sigio: Any = None

    def __enter__(self) -> HeldFile:
        # The kernel tells a lease holder of an open by SIGIO, whose default ends the
        # process; the tests watch the lease's state instead.
        self._sigio = signal.signal(signal.SIGIO, signal.SIG_IGN)
        fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
        except OSError as exc:
            os.close(fd)
            signal.signal(signal.SIGIO, self._sigio)
            raise RuntimeError(
                f"cannot hold {self.path} with a file lease (fcntl F_SETLEASE) here: {exc}"
            ) from exc
        self._fd = fd
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.release(check=kind is None)
        finally:
            signal.signal(signal.SIGIO, self._sigio)

    @property
    def reached(self) -> bool:
        """Whether another process is waiting to open the file (the lease is breaking)."""
        assert self._fd is not None, "not held"
        return fcntl.fcntl(self._fd, fcntl.F_GETLEASE) != fcntl.F_WRLCK

    def wait_reached(self, timeout: float = 60) -> None:
        """Wait until someone tries to open the file (and is held there)."""
        deadline = time.monotonic() + timeout
        while not self.reached:
            if time.monotonic() > deadline:
                raise AssertionError(f"nobody opened {self.path} within {timeout:g}s")
            time.sleep(0.005)

    def release(self, *, check: bool = True) -> None:
        """Let the waiting open go on; idempotent."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            # F_UNLCK means the kernel broke the lease itself: the hold ended early.
            expired = fcntl.fcntl(fd, fcntl.F_GETLEASE) == fcntl.F_UNLCK
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        finally:
            os.close(fd)
        if check and expired:
            raise AssertionError(
                f"the hold on {self.path} ended by itself (lease-break-time passed) before "
                "the test released it"
            )
