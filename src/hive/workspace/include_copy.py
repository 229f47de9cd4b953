"""Copy chosen ignored files (`.env`, `node_modules/**`, …) from the repository into a worktree.

A worktree only holds tracked files; this brings along the untracked, ignored ones
a cell needs to run. Callers use `copy_included` only, so a faster engine can
replace the internals without touching them.

Patterns follow gitignore semantics. `./x` is rooted at the repository top
(`./.env*` is the top-level `.env*` only); an unrooted `.env*` matches at any depth.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from hive.core.errors import InvalidInputError, StepError
from hive.workspace.git import run_git

#: How many missing paths `CopyReport.metadata()` lists before only counting them.
_MISSING_LISTED = 20


@dataclass
class CopyReport:
    """What one include-copy did; `metadata()` is the shape stored with timing rows."""

    patterns: list[str]
    ignore_patterns: list[str]
    candidates: int = 0  # ignored, untracked files git listed
    matched: int = 0  # candidates selected by the patterns
    files: int = 0
    symlinks: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    enumerate_ms: float = 0.0
    copy_ms: float = 0.0

    def metadata(self) -> dict[str, Any]:
        return {
            "patterns": list(self.patterns),
            "ignorePatterns": list(self.ignore_patterns),
            "candidates": self.candidates,
            "matched": self.matched,
            "files": self.files,
            "symlinks": self.symlinks,
            "bytes": self.bytes,
            "missing": self.missing[:_MISSING_LISTED],
            "missingCount": len(self.missing),
            "enumerateMs": round(self.enumerate_ms, 3),
            "copyMs": round(self.copy_ms, 3),
        }


@dataclass
class _CopyTotals:
    files: int = 0
    symlinks: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)


def _to_gitignore(pattern: str, kind: str) -> str:
    """Validate one pattern and translate `./x` to gitignore's rooted `/x`."""
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    if body.startswith("/"):
        raise InvalidInputError(
            f"{kind} pattern {pattern!r} is an absolute path",
            hint="Patterns are relative to the repository; write ./x to match x at its top.",
        )
    if ".." in body.split("/"):
        raise InvalidInputError(
            f"{kind} pattern {pattern!r} points outside the repository",
            hint="Remove the '..' segments; only files inside the repository are copied.",
        )
    if body.startswith("./"):
        body = "/" + body[2:]
        if not body.strip("/"):
            raise InvalidInputError(
                f"{kind} pattern {pattern!r} names no files",
                hint="Name files after ./, e.g. ./.env*",
            )
    return ("!" if negated else "") + body


def _compile(patterns: Sequence[str], kind: str) -> pathspec.GitIgnoreSpec:
    lines: list[str] = []
    for pattern in patterns:
        if not pattern.strip():
            continue
        line = _to_gitignore(pattern, kind)
        try:
            # Compiled alone too, so an error names the pattern that caused it.
            pathspec.GitIgnoreSpec.from_lines([line])
        except ValueError as exc:  # GitWildMatchPatternError is a ValueError
            raise InvalidInputError(f"invalid {kind} pattern {pattern!r}: {exc}") from exc
        lines.append(line)
    return pathspec.GitIgnoreSpec.from_lines(lines)


async def _enumerate_candidates(repo: Path) -> list[str]:
    """Ignored, untracked files under `repo`, as repository-relative paths."""
    result = await run_git(repo, "ls-files", "-z", "--others", "--ignored", "--exclude-standard")
    # Entries ending in "/" are directories git did not descend into (nested repos).
    return [p for p in result.stdout.split("\0") if p and not p.endswith("/")]


def _select(
    candidates: Sequence[str], include: pathspec.GitIgnoreSpec, ignore: pathspec.GitIgnoreSpec
) -> list[str]:
    selected: list[str] = []
    for path in candidates:
        # pathspec's regexes let `**` skip any character but a newline. A pattern
        # line cannot contain one, so a NUL stand-in (never in a path) is equivalent.
        key = path.replace("\n", "\0")
        if include.match_file(key) and not ignore.match_file(key):
            selected.append(path)
    return selected


def _inside(root: Path, path: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _clear_target(target: Path, rel: str) -> None:
    """Make room at `target` without ever writing through a symlink already there."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise StepError(
            f"cannot copy {rel}: a directory with that name already exists in the worktree",
            hint="Remove the directory from the worktree, or exclude the file from includes.",
        )
    target.unlink()


def _copy_files(repo: Path, dest: Path, paths: Sequence[str]) -> _CopyTotals:
    """Copy `paths` from `repo` to `dest`, keeping modes, mtimes and symlinks. Blocking."""
    totals = _CopyTotals()
    dest_root = Path(os.path.realpath(dest))
    ready_dirs: set[Path] = set()
    for rel in paths:
        source = repo / rel
        target = dest_root / rel
        parent = target.parent
        # A symlinked directory in the worktree could lead anywhere: check first.
        if parent not in ready_dirs and not _inside(dest_root, Path(os.path.realpath(parent))):
            raise StepError(
                f"refusing to copy {rel}: its directory leads outside {dest}",
                hint="A symlink in the worktree points elsewhere; exclude this file.",
            )
        try:
            if parent not in ready_dirs:
                parent.mkdir(parents=True, exist_ok=True)
                ready_dirs.add(parent)
            st = os.lstat(source)
            if stat.S_ISLNK(st.st_mode):
                # os.readlink keeps the target text exactly; Path.readlink normalises it.
                link = os.readlink(source)  # noqa: PTH115
                _clear_target(target, rel)
                target.symlink_to(link)
                totals.symlinks += 1
            elif stat.S_ISREG(st.st_mode):
                _clear_target(target, rel)
                # follow_symlinks=False: if it became a symlink meanwhile, copy the link.
                shutil.copy2(source, target, follow_symlinks=False)
                totals.files += 1
                totals.bytes += st.st_size
            # Sockets, fifos and devices are not copied.
        except FileNotFoundError:
            # Deleted since git listed it (a dev server cleaning its cache, say).
            totals.missing.append(rel)
        except OSError as exc:
            raise StepError(
                f"could not copy {rel} into the worktree: {exc.strerror or exc}",
                hint="Check the file's permissions, or exclude it from the include patterns.",
            ) from exc
    return totals


async def copy_included(
    repo: Path,
    dest: Path,
    include_patterns: Sequence[str],
    ignore_patterns: Sequence[str],
) -> CopyReport:
    """Copy the repository's ignored files that match `include_patterns` and no ignore pattern.

    `repo` must be the repository's top level; paths are relative to it.
    """
    report = CopyReport(patterns=list(include_patterns), ignore_patterns=list(ignore_patterns))
    include = _compile(include_patterns, "include")
    ignore = _compile(ignore_patterns, "ignore")
    if not include.patterns:
        return report

    started = time.perf_counter()
    candidates = await _enumerate_candidates(repo)
    selected = await asyncio.to_thread(_select, candidates, include, ignore)
    report.candidates = len(candidates)
    report.matched = len(selected)
    report.enumerate_ms = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    totals = await asyncio.to_thread(_copy_files, repo, dest, selected)
    report.copy_ms = (time.perf_counter() - started) * 1000
    report.files = totals.files
    report.symlinks = totals.symlinks
    report.bytes = totals.bytes
    report.missing = totals.missing
    return report
