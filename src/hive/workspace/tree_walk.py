"""Turn an include-copy plan into the exact list of directories, files and links to copy.

The planner (`include_copy.plan_copy`) works on git's entries, where an ignored
directory is one line; this walks those directories on disk with the patterns, so the
copy itself (`tree_copy`) needs no patterns and can run in another process.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the copy worker imports this module and must not pay for pathspec
    from hive.workspace.include_rules import IncludeRules


BATCH_ITEMS = 1000
"""Files and links per batch of a streamed walk."""


@dataclass
class CopyPlan:
    """What to copy, as repository-relative paths."""

    trees: list[str] = field(default_factory=list)
    """Directories copied whole (ignore patterns still apply inside)."""
    walks: list[str] = field(default_factory=list)
    """Ignored directories searched file by file for pattern matches."""
    files: list[str] = field(default_factory=list)
    """Single files or symlinks git listed that the patterns select."""


@dataclass
class CopyWork:
    """Everything one copy makes, as repository-relative paths; JSON-able for a worker."""

    dirs: list[tuple[str, int]] = field(default_factory=list)
    """Directories to create, with their modes (empty ones too)."""
    parents: set[str] = field(default_factory=set)
    """Directories that must exist (or are made) above single files and links."""
    files: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Planned paths gone before the walk reached them."""
    walk_ms: float = 0.0

    @property
    def items(self) -> int:
        return len(self.files) + len(self.links)

    def to_json(self) -> dict[str, Any]:
        return {
            "dirs": self.dirs,
            "parents": sorted(self.parents),
            "files": self.files,
            "links": self.links,
            "missing": self.missing,
            "walkMs": self.walk_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CopyWork:
        return cls(
            dirs=[(str(rel), int(mode)) for rel, mode in data["dirs"]],
            parents=set(data["parents"]),
            files=list(data["files"]),
            links=list(data["links"]),
            missing=list(data["missing"]),
            walk_ms=float(data["walkMs"]),
        )


@dataclass(frozen=True)
class WalkSummary:
    """What a batched walk found in all: files and links, and how long it took."""

    items: int
    walk_ms: float


def walk_plan(
    repo: Path, plan: CopyPlan, rules: IncludeRules, stop: threading.Event | None = None
) -> CopyWork:
    """List what the plan copies; blocking (run it on a thread). `stop` ends it early."""
    batches: list[CopyWork] = []
    walk_in_batches(repo, plan, rules, batches.append, stop, batch_items=None)
    return batches[0]


def walk_in_batches(
    repo: Path,
    plan: CopyPlan,
    rules: IncludeRules,
    on_batch: Callable[[CopyWork], object],
    stop: threading.Event | None = None,
    *,
    batch_items: int | None = BATCH_ITEMS,
) -> WalkSummary:
    """Walk, handing over the work in batches of about `batch_items` files and links.

    A batch's files lie in directories of that batch or earlier ones, so a copier can
    start on the first batch while the walk goes on. Blocking (run it on a thread).
    """
    walker = _Walker(str(repo), rules, stop or threading.Event(), on_batch, batch_items)
    began = time.perf_counter()
    for tree in plan.trees:
        walker.walk(tree, whole=True)
    for directory in plan.walks:
        walker.walk(directory, whole=False)
    for rel in plan.files:
        walker.work.files.append(rel)
        walker.work.parents.add(os.path.dirname(rel))
    walk_ms = (time.perf_counter() - began) * 1000
    walker.work.walk_ms = walk_ms
    walker.flush()
    return WalkSummary(items=walker.items, walk_ms=walk_ms)


class _Walker:
    def __init__(
        self,
        repo: str,
        rules: IncludeRules,
        stop: threading.Event,
        on_batch: Callable[[CopyWork], object],
        batch_items: int | None,
    ) -> None:
        self._repo = repo
        self._rules = rules
        self._stop = stop
        self._on_batch = on_batch
        self._batch_items = batch_items
        self.work = CopyWork()
        self.items = 0
        """Files and links handed over so far."""

    def flush(self) -> None:
        self.items += self.work.items
        self._on_batch(self.work)
        self.work = CopyWork()

    def _batch_full(self) -> bool:
        return self._batch_items is not None and self.work.items >= self._batch_items

    def walk(self, top: str, *, whole: bool) -> None:
        work, rules = self.work, self._rules
        try:
            top_stat = os.lstat(os.path.join(self._repo, top))
        except FileNotFoundError:
            work.missing.append(top)
            return
        if stat.S_ISLNK(top_stat.st_mode):  # a symlinked root is copied as the link
            work.links.append(top)
            work.parents.add(os.path.dirname(top))
            return
        if whole:
            work.parents.add(os.path.dirname(top))
            work.dirs.append((top, stat.S_IMODE(top_stat.st_mode)))
        stack = [(top, whole)]
        while stack and not self._stop.is_set():
            rel_dir, inside_tree = stack.pop()
            try:
                entries = list(os.scandir(os.path.join(self._repo, rel_dir)))
            except FileNotFoundError:
                work.missing.append(rel_dir)
                continue
            if self._batch_full():
                self.flush()
                work = self.work
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    if rules.has_ignores and rules.ignores(rel, is_dir=True):
                        continue
                    if inside_tree or rules.root_covering(rel) or rules.includes_dir(rel):
                        mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
                        work.dirs.append((rel, mode))
                        stack.append((rel, True))
                        if not inside_tree:  # found by a pattern: its parent is not made
                            work.parents.add(rel_dir)
                    elif rules.may_match_within(rel):
                        stack.append((rel, False))
                    continue
                if inside_tree:
                    if rules.has_ignores and rules.ignores(rel):
                        continue
                elif not rules.selects(rel):
                    continue
                else:
                    work.parents.add(rel_dir)
                if entry.is_symlink():
                    work.links.append(rel)
                elif entry.is_file(follow_symlinks=False):
                    work.files.append(rel)
                # sockets, fifos and devices are not copied
