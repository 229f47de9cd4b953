"""Whether files clone between two places, asked once per pair of file systems.

A copy-on-write checkout is only worth making where `FICLONE` works: on a file system
that refuses (ext4) or across two file systems, `git worktree add` is cheaper than byte
copies. The answer is remembered per pair of devices for the life of the server, as
include-copy's `Cloner` remembers a refusal for the rest of its copy. Blocking; call it
in a thread.
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

from hive.workspace.clone import Cloner

ANOTHER_FILE_SYSTEM = "main checkout on another file system"
REFUSED = "file system refuses clones"


class CloneSupport:
    def __init__(self) -> None:
        self._known: dict[int, str | None] = {}
        self.probes = 0
        """Clones tried to learn the answer (one per file system, refusals included)."""

    def remembered(self, checkout: Path, target_dir: Path) -> str | None:
        """Why not, when it is known without a probe: another file system, or one whose
        refusal was remembered. Two stat calls: a checkout that falls back costs no more."""
        device = checkout.stat().st_dev
        if target_dir.stat().st_dev != device:
            return ANOTHER_FILE_SYSTEM
        return self._known.get(device)

    def refusal(self, source: Path, target_dir: Path) -> str | None:
        """Why files of `source`'s file system cannot be cloned into `target_dir`, or None.

        `source` is a non-empty regular file to try the clone with.
        """
        device = source.stat().st_dev
        if target_dir.stat().st_dev != device:
            return ANOTHER_FILE_SYSTEM
        if device not in self._known:
            self.probes += 1
            try:
                self._known[device] = _probe(source, target_dir)
            except OSError as exc:  # this file, this time (not remembered)
                return f"the clone probe failed: {exc.strerror or exc}"
        return self._known[device]


def _probe(source: Path, target_dir: Path) -> str | None:
    cloner = Cloner()
    probe = target_dir / f".hive-clone-probe-{secrets.token_hex(4)}"
    try:
        cloner.copy_file(str(source), str(probe))
    finally:
        with contextlib.suppress(FileNotFoundError):
            probe.unlink()
    return None if cloner.reflinked else REFUSED
