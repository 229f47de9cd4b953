"""Snapshots of a worktree's uncommitted work, kept on private refs before a delete.

A snapshot is a commit whose parent is the worktree's HEAD and whose tree is the
worktree as it is (tracked edits and untracked files that are not ignored), like
`git stash create` with untracked files. It is built in a temporary index, so the
user's index, branches and stash never change, and kept at
`refs/hive/snapshots/<cell-id>`, which no branch listing or `git gc` touches.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from hive.core.errors import ConflictError, InvalidInputError, NotFoundError
from hive.workspace.git import refuse_option_like, run_git

SNAPSHOT_REFS = "refs/hive/snapshots/"
#: How many names of changed and of added files a snapshot's summary carries.
SHOWN_NAMES = 5

# commit-tree needs an identity; the snapshot is Hive's, and works without user config.
_IDENTITY = {
    "GIT_AUTHOR_NAME": "Hive",
    "GIT_AUTHOR_EMAIL": "hive@localhost",
    "GIT_COMMITTER_NAME": "Hive",
    "GIT_COMMITTER_EMAIL": "hive@localhost",
}


@dataclass(frozen=True)
class Snapshot:
    """What a snapshot holds, relative to the HEAD it was taken on."""

    ref: str
    commit: str
    parent: str
    files_changed: int
    """Tracked files edited, deleted or changed in type."""
    files_added: int
    """Files HEAD does not have (untracked, or staged as new)."""
    changed: tuple[str, ...]
    added: tuple[str, ...]


@dataclass(frozen=True)
class StoredSnapshot:
    """A snapshot ref as the repository has it."""

    cell_id: str
    ref: str
    commit: str
    created_at: int
    """Committer time, seconds since the epoch."""
    subject: str


def snapshot_ref(cell_id: str) -> str:
    refuse_option_like(cell_id, "cell id")
    return f"{SNAPSHOT_REFS}{cell_id}"


async def take_snapshot(worktree: Path, cell_id: str, message: str) -> Snapshot | None:
    """Commit the worktree's uncommitted work to `refs/hive/snapshots/<cell_id>`;
    None when there is none. Raises `GitError` when the snapshot cannot be made."""
    ref = snapshot_ref(cell_id)
    head = (await run_git(worktree, "rev-parse", "--verify", "HEAD^{commit}")).stdout.strip()
    index = Path((await run_git(worktree, "rev-parse", "--git-path", "index")).stdout.strip())
    if not index.is_absolute():
        index = worktree / index
    scratch = index.with_name("hive-snapshot.index")
    env = {"GIT_INDEX_FILE": str(scratch), **_IDENTITY}
    try:
        # A copy of the real index keeps its stat data: `add -A` rehashes only what changed.
        if not await asyncio.to_thread(_copy_if_present, index, scratch):
            await run_git(worktree, "read-tree", head, env=env)
        await run_git(worktree, "add", "-A", "--", ".", env=env)
        tree = (await run_git(worktree, "write-tree", env=env)).stdout.strip()
    finally:
        await asyncio.to_thread(_unlink, scratch)
    changes = await _changes(worktree, head, tree)
    if not changes:
        return None
    commit = (
        await run_git(worktree, "commit-tree", tree, "-p", head, "-m", message, env=env)
    ).stdout.strip()
    await run_git(worktree, "update-ref", ref, commit)
    added = [path for status, path in changes if status == "A"]
    changed = [path for status, path in changes if status != "A"]
    return Snapshot(
        ref=ref,
        commit=commit,
        parent=head,
        files_changed=len(changed),
        files_added=len(added),
        changed=tuple(changed[:SHOWN_NAMES]),
        added=tuple(added[:SHOWN_NAMES]),
    )


async def _changes(worktree: Path, head: str, tree: str) -> list[tuple[str, str]]:
    """(status letter, path) of every file `tree` has differently from `head`."""
    result = await run_git(
        worktree, "diff-tree", "-r", "-z", "--no-renames", "--name-status", head, tree
    )
    fields = result.stdout.split("\0")
    return [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2) if fields[i]]


def _copy_if_present(source: Path, target: Path) -> bool:
    try:
        shutil.copyfile(source, target)
    except FileNotFoundError:
        return False
    return True


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


async def list_snapshots(repo: Path) -> list[StoredSnapshot]:
    """Every snapshot ref of the repository, oldest first."""
    result = await run_git(
        repo,
        "for-each-ref",
        "--sort=committerdate",
        "--format=%(refname)%00%(objectname)%00%(committerdate:unix)%00%(subject)",
        SNAPSHOT_REFS,
    )
    snapshots = []
    for line in result.stdout.splitlines():
        ref, commit, created, subject = line.split("\0", 3)
        stamp = int(created) if created.isdigit() else 0
        snapshots.append(
            StoredSnapshot(ref.removeprefix(SNAPSHOT_REFS), ref, commit, stamp, subject)
        )
    return snapshots


async def delete_snapshot(repo: Path, snapshot: StoredSnapshot) -> None:
    """Drop the ref, only if it still points where it did when it was listed."""
    await run_git(repo, "update-ref", "-d", snapshot.ref, snapshot.commit)


async def rescue_snapshot(repo: Path, snapshot: StoredSnapshot, path: Path, branch: str) -> None:
    """A new worktree at `path` on a new `branch` whose last commit is the snapshot."""
    refuse_option_like(branch, "branch name")
    if (await run_git(repo, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}",
                      check=False)).returncode == 0:  # fmt: skip
        raise ConflictError(
            f"branch {branch!r} already exists in {repo}",
            hint="an earlier rescue made it: use that worktree, or delete the branch",
        )
    target = await asyncio.to_thread(path.absolute)
    if await asyncio.to_thread(os.path.lexists, target):
        raise InvalidInputError(
            f"path: {target} already exists", hint="pass another --path for the rescued worktree"
        )
    await run_git(repo, "worktree", "add", "-b", branch, "--", str(target), snapshot.commit)


def find_snapshot(snapshots: list[StoredSnapshot], given: str) -> StoredSnapshot:
    """The one snapshot whose cell id starts with `given`."""
    matches = [s for s in snapshots if s.cell_id.startswith(given)] if given else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(
            f"no snapshot of a cell whose id starts with '{given}'",
            hint="`hive gc --snapshots-older-than 0d` lists every snapshot",
        )
    raise InvalidInputError(f"'{given}' matches {len(matches)} snapshots: give more of the id")
