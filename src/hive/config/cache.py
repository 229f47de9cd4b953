"""Parsed configs kept per repository root, re-read only when the file changes."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

from hive.config.loader import (
    WorkspaceConfig,
    find_config_file,
    load_config,
    load_workspace_config,
)


@dataclass(frozen=True, slots=True)
class _Stamp:
    """What identifies one version of the file without reading it."""

    file: Path
    mtime_ns: int
    size: int


@dataclass(frozen=True, slots=True)
class _Entry:
    stamp: _Stamp
    config: WorkspaceConfig


class ConfigCache:
    """Thread-safe cache of `WorkspaceConfig`s; the same object until the file changes."""

    def __init__(self) -> None:
        self._entries: dict[Path, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, root: Path) -> WorkspaceConfig:
        """The config of the repository at `root`. Blocking: use `aget` from async code."""
        key = root.resolve()
        stamp = _stamp(key)
        if stamp is None:
            with self._lock:
                self._entries.pop(key, None)
            return load_workspace_config(key)  # raises the "create a config" error
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry.stamp == stamp:
            return entry.config
        # Load outside the lock so one slow file does not stall other roots. Two
        # threads may both load; either result is fine, since the stamp was taken
        # before reading and a stamp never claims newer content than it has.
        config = load_config(stamp.file)
        with self._lock:
            self._entries[key] = _Entry(stamp, config)
        return config

    async def aget(self, root: Path) -> WorkspaceConfig:
        """`get` in a worker thread, so the event loop never waits on the disk."""
        return await asyncio.to_thread(self.get, root)

    def invalidate(self, root: Path) -> None:
        """Forget the config of `root`; the next `get` reads the file again."""
        with self._lock:
            self._entries.pop(root.resolve(), None)


def _stamp(root: Path) -> _Stamp | None:
    path = find_config_file(root)
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None  # vanished since find_config_file; treat as missing
    return _Stamp(path, st.st_mtime_ns, st.st_size)
