"""Move a staged tree into a worktree: rename whole directories where nothing is in the way.

Include-copy fills a staging directory while `git worktree add` checks out the worktree
(git refuses a non-empty target), then the staged entries are renamed into place: a
rename per top-level entry in the usual case, so the move costs next to nothing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hive.core.errors import StepError


def move_into(staging: Path, worktree: Path) -> int:
    """Rename everything under `staging` into `worktree`; returns how many renames it took.

    Blocking; run it in a thread. Never writes through a symlink in the worktree.
    """
    return _move(str(staging), str(worktree), "")


def _move(source_dir: str, target_dir: str, rel: str) -> int:
    renames = 0
    with os.scandir(source_dir) as entries:
        for entry in entries:
            target = os.path.join(target_dir, entry.name)  # noqa: PTH118 - hot path
            name = f"{rel}{entry.name}"
            try:
                existing = os.lstat(target)
            except FileNotFoundError:
                os.rename(entry.path, target)  # noqa: PTH104
                renames += 1
                continue
            if stat.S_ISLNK(existing.st_mode):
                raise StepError(
                    f"refusing to copy into {name}: in the worktree it is a symlink",
                    hint="a tracked symlink is where an included file would go; exclude it",
                )
            if entry.is_dir(follow_symlinks=False) and stat.S_ISDIR(existing.st_mode):
                renames += _move(entry.path, target, f"{name}/")
            elif not stat.S_ISDIR(existing.st_mode) and not entry.is_dir(follow_symlinks=False):
                os.replace(entry.path, target)  # noqa: PTH105
                renames += 1
            else:
                raise StepError(
                    f"cannot copy {name}: the worktree has a "
                    f"{'directory' if stat.S_ISDIR(existing.st_mode) else 'file'} there",
                    hint="exclude it with ignorePatterns or rename it in the repository",
                )
    return renames
