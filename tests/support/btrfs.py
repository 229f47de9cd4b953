"""A small btrfs file system in a loop file, for proving reflinks; skips with a reason."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "mounting a btrfs loop file system needs root"
    if shutil.which("mkfs.btrfs") is None:
        return "mkfs.btrfs is missing (apt-get install btrfs-progs; `make test` does it)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices on this machine"
    return None


@contextmanager
def btrfs_mount(workdir: Path, size: str = "300M") -> Iterator[Path]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    image, mountpoint = workdir / "btrfs.img", workdir / "btrfs"
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    subprocess.run(["mkfs.btrfs", "-q", "-f", str(image)], check=True, capture_output=True)
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-o", "loop", str(image), str(mountpoint)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a loop file system here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def shares_extents(path: Path) -> bool:
    """filefrag reports the file's extents as shared (a reflink, not a copy)."""
    out = subprocess.run(["filefrag", "-v", str(path)], capture_output=True, text=True)
    return "shared" in out.stdout


def disk_clones(directory: Path) -> bool:
    """Whether `directory`'s file system clones files, asked of `cp`, not of Hive."""
    source, target = directory / ".clone-check", directory / ".clone-check-copy"
    source.write_bytes(b"x" * 4096)
    try:
        copied = subprocess.run(
            ["cp", "--reflink=always", str(source), str(target)], capture_output=True
        )
        return copied.returncode == 0
    finally:
        source.unlink()
        target.unlink(missing_ok=True)
