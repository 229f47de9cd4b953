"""What a directory tree takes on disk, and what its file system has free. Blocking:
called in a thread.

The walk is `os.scandir` over a stack of directories (no recursion, no Path objects
per entry), counts every inode once (hard links), stays on the tree's file system
(like `du -x`) and stops when its time budget is spent, saying it is incomplete.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from hive.core.disk_space import DiskSpace

#: Entries between two looks at the clock: a clock read costs more than a stat's share.
_CLOCK_EVERY = 256


@dataclass(frozen=True)
class TreeUsage:
    apparent_bytes: int
    """Sum of sizes (`st_size`): what `du --apparent-size` says."""
    allocated_bytes: int
    """Blocks held (`st_blocks * 512`): sparse files take less, small files a block."""
    files: int
    """Regular files counted."""
    complete: bool
    """False when the budget ran out (or a directory could not be read) first."""
    duration_ms: float


def measure_tree(
    root: Path,
    *,
    budget_s: float,
    skip_top: Collection[str] = (),
    clock: Callable[[], float] = time.monotonic,
) -> TreeUsage:
    """Sizes of everything under `root` (itself included); `skip_top` names entries of
    `root` left out (a worktree's `.git` file). A missing root takes nothing."""
    began = clock()
    deadline = began + budget_s
    apparent = allocated = files = 0
    complete = True
    seen: set[tuple[int, int]] = set()
    try:
        top = os.lstat(root)
    except FileNotFoundError:
        return TreeUsage(0, 0, 0, True, 0.0)
    device = top.st_dev
    apparent, allocated = top.st_size, top.st_blocks * 512
    top_path = os.fspath(root)
    stack = [top_path]
    counted = 0
    while stack:
        directory = stack.pop()
        try:
            entries = os.scandir(directory)
        except FileNotFoundError:
            continue  # removed while we walked
        except OSError:
            complete = False  # unreadable: what it holds is not counted
            continue
        with entries:
            at_top = directory == top_path
            for entry in entries:
                if at_top and entry.name in skip_top:
                    continue
                counted += 1
                if counted % _CLOCK_EVERY == 0 and clock() > deadline:
                    return TreeUsage(apparent, allocated, files, False, _ms(clock() - began))
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError:
                    complete = False
                    continue
                if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                    key = (st.st_dev, st.st_ino)
                    if key in seen:
                        continue
                    seen.add(key)
                apparent += st.st_size
                allocated += st.st_blocks * 512
                if stat.S_ISDIR(st.st_mode):
                    if st.st_dev == device:
                        stack.append(entry.path)
                elif stat.S_ISREG(st.st_mode):
                    files += 1
    return TreeUsage(apparent, allocated, files, complete, _ms(clock() - began))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def read_free_space(path: Path) -> DiskSpace:
    """Free and total bytes of the file system that holds `path`, or would: the nearest
    directory that exists (the cells root is made with the first cell)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return DiskSpace(free_bytes=usage.free, total_bytes=usage.total)
