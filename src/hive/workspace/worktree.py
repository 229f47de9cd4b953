"""A cell's git worktree: its branch name, and adding, finding and removing it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

from hive.core.errors import InvalidInputError
from hive.workspace.git import GitError, branch_exists, refuse_option_like, run_git

_SLUG_MAX = 40
_ID_CHARS = 8
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ID_OK = re.compile(r"[A-Za-z0-9]+")
#: While adding a worktree git reads every other worktree's admin files; one that a
#: concurrent add has made but not yet filled makes it fail ("failed to read
#: .git/worktrees/<other>/commondir"), after it created the branch. Transient: the add
#: is tried again, on the branch it made.
_RACED = re.compile(r"failed to read .*worktrees/[^/]+/(commondir|gitdir)")
_RACE_BACKOFF_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


def branch_name_for(name: str, cell_id: str) -> str:
    """`hive/<slug>-<id8>`: readable, and a valid ref name whatever `name` contains.

    The slug only ever holds `[a-z0-9-]` and never starts or ends with `-`, which
    rules out every construct `git check-ref-format` forbids (`..`, `.lock`, `@{`,
    control characters, leading `-` or `.`).
    """
    slug = _NOT_SLUG.sub("-", name.lower()).strip("-")[:_SLUG_MAX].strip("-") or "cell"
    suffix = cell_id[:_ID_CHARS]
    if not _ID_OK.fullmatch(suffix):
        raise InvalidInputError(
            f"cell id {cell_id!r} cannot be used in a branch name",
            hint="Cell ids must start with at least one letter or digit, with no other characters.",
        )
    return f"hive/{slug}-{suffix.lower()}"


def _prepare_target(path: Path) -> Path:
    """Absolute target with its parent created; refuse one that already holds something."""
    # git -C would resolve a relative path against the repository, not our cwd.
    path = path.absolute()
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise InvalidInputError(
            f"cannot create a worktree at {path}: something other than a directory is there",
            hint="Remove it, or configure a different location for cell worktrees.",
        )
    if path.is_dir() and any(path.iterdir()):
        raise InvalidInputError(
            f"cannot create a worktree at {path}: the directory exists and is not empty",
            hint="Remove it (it may be left over from an earlier cell), or use another location.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


async def add_worktree(
    repo: Path, path: Path, branch: str, start_commit: str, *, checkout: bool = True
) -> None:
    """`git worktree add -b <branch> <path> <start_commit>`, creating the parent directory.

    Without `checkout`, git writes neither files nor an index (`--no-checkout`): a
    copy-on-write checkout makes both.
    """
    refuse_option_like(branch, "branch name")
    refuse_option_like(start_commit, "commit")
    target = await asyncio.to_thread(_prepare_target, path)
    add = ["worktree", "add", *([] if checkout else ["--no-checkout"])]
    args = [*add, "-b", branch, "--", str(target), start_commit]
    for delay in (*_RACE_BACKOFF_S, None):
        try:
            await run_git(repo, *args)
            return
        except GitError as exc:
            if delay is None or not _RACED.search(exc.stderr):
                raise
        await asyncio.sleep(delay)
        if await branch_exists(repo, branch):
            args = [*add, "--", str(target), branch]


async def attach_worktree(repo: Path, path: Path, branch: str, *, checkout: bool = True) -> None:
    """Check an existing branch out again at `path` (its earlier worktree is gone)."""
    refuse_option_like(branch, "branch name")
    target = await asyncio.to_thread(_prepare_target, path)
    await run_git(repo, "worktree", "prune")
    add = ["worktree", "add", *([] if checkout else ["--no-checkout"])]
    await run_git(repo, *add, "--", str(target), branch)


def worktree_git_dir(path: Path) -> Path:
    """The administrative directory of the linked worktree at `path` (its `.git` file)."""
    text = (path / ".git").read_text(encoding="utf-8", errors="surrogateescape").strip()
    if not text.startswith("gitdir: "):
        raise InvalidInputError(f"{path} is not a linked worktree", hint="pass a cell's worktree")
    git_dir = Path(text.removeprefix("gitdir: "))
    return git_dir if git_dir.is_absolute() else (path / git_dir).resolve()


def checkout_finished(path: Path) -> bool:
    """Whether the worktree at `path` has its index: git and the copy-on-write checkout
    both write it last, so a checkout cut short (a killed server) has none."""
    try:
        return (worktree_git_dir(path) / "index").exists()
    except (OSError, InvalidInputError):
        return False


async def _worktree_paths(repo: Path) -> list[Path]:
    # -z: one field per NUL-terminated line, so odd paths need no unquoting.
    result = await run_git(repo, "worktree", "list", "--porcelain", "-z")
    prefix = "worktree "
    return [Path(f[len(prefix) :]) for f in result.stdout.split("\0") if f.startswith(prefix)]


def _others(listed: list[Path], path: Path) -> list[Path]:
    """The listed worktrees that are not `path`."""
    # Compare real paths: git records them resolved, callers may pass symlinked
    # or relative ones (relative to our cwd, not the repository).
    real = os.path.realpath(path)
    return [p for p in listed if os.path.realpath(p) != real]


async def worktree_exists(repo: Path, path: Path) -> bool:
    """Whether git lists `path` as one of the repository's worktrees."""
    listed = await _worktree_paths(repo)
    others = await asyncio.to_thread(_others, listed, path)
    return len(others) < len(listed)


def _leftover_neighbours(path: Path, worktrees: list[Path]) -> tuple[bool, list[Path]]:
    """Whether `path` is on disk, and the worktrees that contain it; refuse if it holds one."""
    real = Path(os.path.realpath(path))
    around: list[Path] = []
    for worktree in worktrees:
        wt_real = Path(os.path.realpath(worktree))
        # Never let cleanup of a cell take a real checkout (or a parent of one) with it.
        if wt_real.is_relative_to(real):
            raise InvalidInputError(
                f"refusing to delete {path}: it is or contains the worktree at {worktree}",
                hint="Pass the path of the cell's own worktree.",
            )
        if real.is_relative_to(wt_real):
            around.append(worktree)
    return os.path.lexists(path), around


def _delete_path(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


async def _delete_leftover(path: Path, worktrees: list[Path]) -> None:
    exists, around = await asyncio.to_thread(_leftover_neighbours, path, worktrees)
    if not exists:
        return
    for worktree in around:
        # Cells may live inside the repository (say .hive/cells/); that is fine as
        # long as the directory holds no tracked files, which only a wrong path would.
        tracked = await run_git(worktree, "--literal-pathspecs", "ls-files", "-z", "--", str(path))
        if tracked.stdout:
            raise InvalidInputError(
                f"refusing to delete {path}: it holds files tracked in {worktree}",
                hint="Pass the path of the cell's own worktree.",
            )
    await asyncio.to_thread(_delete_path, path)


async def remove_worktree(repo: Path, path: Path) -> None:
    """Remove a cell's worktree, dirty or locked; one that is already gone is fine.

    When git no longer knows the path (removed earlier, or never fully added),
    whatever is left on disk is deleted and stale bookkeeping pruned.
    """
    target = await asyncio.to_thread(path.absolute)
    args = ["worktree", "remove", "--force", "--force", "--", str(target)]
    result = await run_git(repo, *args, check=False)
    if result.returncode == 0:
        return
    listed = await _worktree_paths(repo)
    others = await asyncio.to_thread(_others, listed, target)
    if len(others) < len(listed):
        # git still knows it, yet could not remove it (the main worktree, say).
        raise GitError(args, result.returncode, result.stderr)
    await _delete_leftover(target, [repo, *others])
    # Drops entries of worktrees whose directories were deleted by hand.
    await run_git(repo, "worktree", "prune")
