"""Garbage collection: what Hive made but no cell accounts for any more.

Found: worktree directories under the worktrees root without a cell, `git worktree`
entries whose directory is gone, `hive/*` branches no cell has (when their commits
are all on other branches too), port leases of cells that hold none (gone, archived,
in error), service processes of such cells still running, and recorded setup process
groups still running with no run of their cell going. A scan changes nothing;
`collect` acts on what a scan finds, but a worktree with uncommitted changes and a
branch with commits found nowhere else are kept unless forced.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from hive.core.errors import HiveError
from hive.core.failures import describe_error
from hive.core.status import CellStatus
from hive.services.backend import ProcessBackend, is_same_process
from hive.services.leftovers import still_running
from hive.store.cells import CellStore
from hive.store.leases import HIVE_OWNER, LeaseStore
from hive.store.processes import ProcessStore
from hive.store.records import CellRecord
from hive.store.services import ServiceStore
from hive.store.workspaces import WorkspaceStore
from hive.workspace.git import run_git

log = logging.getLogger(__name__)

Kind = Literal["worktree", "worktree_entry", "branch", "lease", "process"]
BRANCH_PREFIX = "hive/"
RESCUE_PREFIX = "hive/rescue-"
"""`hive rescue` makes these for the user: never garbage."""
#: Cells that hold neither ports nor processes: what they still have is garbage.
_AT_REST = frozenset({CellStatus.ARCHIVED, CellStatus.ERROR})


@dataclass(frozen=True)
class Finding:
    kind: Kind
    target: str
    """The path, branch, port or pid."""
    reason: str
    workspace: str | None = None
    """The repository it belongs to, for git things."""
    kept_unless_forced: str | None = None
    """Why acting on it could lose work; None: safe."""
    outcome: str | None = None
    """What `collect` did: `removed`, `kept: …`, `failed: …`; None for a scan."""


class GarbageCollector:
    def __init__(
        self,
        *,
        cells: CellStore,
        workspaces: WorkspaceStore,
        leases: LeaseStore,
        services: ServiceStore,
        processes: ProcessStore,
        running: Callable[[str], bool],
        backend: ProcessBackend,
        worktrees_root: Path,
        grace_s: float,
    ) -> None:
        """`running(cell_id)`: whether a run of the cell is going (its setup processes
        are then its own, not leftovers)."""
        self._cells = cells
        self._workspaces = workspaces
        self._leases = leases
        self._services = services
        self._setup_records = processes
        self._running = running
        self._backend = backend
        self._root = worktrees_root
        self._grace_s = grace_s

    async def scan(self) -> list[Finding]:
        cells = {cell.id: cell for cell in await self._cells.list(include_hidden=True)}
        found = await self._worktrees(cells)
        for workspace in await self._workspaces.list():
            found += await self._git_garbage(workspace.path, cells.values())
        found += await self._leases_held(cells)
        found += await self._live_processes(cells)
        return found

    async def collect(self, *, force: bool = False) -> list[Finding]:
        """Scan, then remove what was found (what could lose work only with `force`)."""
        done = []
        for finding in await self.scan():
            if finding.kept_unless_forced and not force:
                done.append(replace(finding, outcome=f"kept: {finding.kept_unless_forced}"))
                continue
            try:
                await self._remove(finding)
            except (HiveError, OSError) as exc:
                done.append(replace(finding, outcome=f"failed: {describe_error(exc)}"))
            else:
                done.append(replace(finding, outcome="removed"))
        return done

    async def report(self) -> None:
        """Log what a scan finds (start-up): report only, nothing is touched."""
        try:
            found = await self.scan()
        except (HiveError, OSError) as exc:
            log.warning("garbage scan failed: %s", describe_error(exc))
            return
        for finding in found:
            log.warning("gc would remove %s %s: %s", finding.kind, finding.target, finding.reason)
        if found:
            log.warning("%d leftover(s) found: `hive gc` lists them, `--apply` removes", len(found))

    # -- scans -------------------------------------------------------------------------

    async def _worktrees(self, cells: dict[str, CellRecord]) -> list[Finding]:
        found = []
        for path in await asyncio.to_thread(_directories, self._root):
            # `.<id>.include`: the staging directory of a cell's include-copy.
            owner = path.name.removeprefix(".").removesuffix(".include")
            if owner in cells:
                continue
            dirty = await _uncommitted(path)
            found.append(
                Finding(
                    "worktree",
                    str(path),
                    "a directory under the worktrees root that no cell has",
                    kept_unless_forced=dirty,
                )
            )
        return found

    async def _git_garbage(self, repo: Path, cells: Iterable[CellRecord]) -> list[Finding]:
        if not await asyncio.to_thread(repo.is_dir):
            return []
        found = []
        checked_out = set()
        listed = await run_git(repo, "worktree", "list", "--porcelain", check=False)
        present = True  # whether the entry the lines below belong to has its directory
        for line in listed.stdout.splitlines():
            if line.startswith("worktree "):
                path = Path(line.removeprefix("worktree "))
                present = await asyncio.to_thread(path.exists)
                if not present:
                    reason = "a git worktree entry whose directory is gone"
                    found.append(Finding("worktree_entry", str(path), reason, str(repo)))
            elif line.startswith("branch refs/heads/") and present:
                checked_out.add(line.removeprefix("branch refs/heads/"))
        # Branches someone has checked out, and rescued work, are the user's.
        live = {cell.branch_name for cell in cells} | checked_out
        refs = await run_git(
            repo, "for-each-ref", "--format=%(refname:short)", f"refs/heads/{BRANCH_PREFIX}",
            check=False,
        )  # fmt: skip
        for branch in refs.stdout.split():
            if branch in live or branch.startswith(RESCUE_PREFIX):
                continue
            only_here = await _commits_only_on(repo, branch)
            found.append(
                Finding(
                    "branch",
                    branch,
                    "a Hive branch that no cell has",
                    str(repo),
                    kept_unless_forced=(
                        f"{only_here} commit(s) on no other branch" if only_here else None
                    ),
                )
            )
        return found

    async def _leases_held(self, cells: dict[str, CellRecord]) -> list[Finding]:
        found = []
        for lease in await self._leases.all():
            if lease.cell_id == HIVE_OWNER:  # Hive's own (the OpenCode server's)
                continue
            cell = cells.get(lease.cell_id)
            if cell is None or cell.status in _AT_REST:
                why = "its cell is gone" if cell is None else f"its cell is {cell.status}"
                found.append(Finding("lease", str(lease.port), f"{lease.service}: {why}"))
        return found

    async def _live_processes(self, cells: dict[str, CellRecord]) -> list[Finding]:
        found = []
        for setup in await self._setup_records.list():
            if self._running(setup.cell_id):
                continue
            if await is_same_process(self._backend, setup.pid, setup.process_started):
                reason = f"{setup.kind} command of cell {setup.cell_id} with no run going"
                found.append(Finding("process", str(setup.pid), f"{reason}: {setup.command}"))
        for record in await self._services.with_process():
            cell = cells.get(record.cell_id)
            if cell is not None and cell.status not in _AT_REST:
                continue
            if await still_running(self._backend, record):
                why = "its cell is gone" if cell is None else f"its cell is {cell.status}"
                reason = f"service {record.name} of cell {record.cell_id} still runs: {why}"
                found.append(Finding("process", str(record.pid), reason))
        return found

    # -- removal -----------------------------------------------------------------------

    async def _remove(self, finding: Finding) -> None:
        if finding.kind == "worktree":
            await asyncio.to_thread(shutil.rmtree, finding.target)
        elif finding.kind == "worktree_entry" and finding.workspace:
            await run_git(Path(finding.workspace), "worktree", "prune")
        elif finding.kind == "branch" and finding.workspace:
            await run_git(Path(finding.workspace), "branch", "-D", "--", finding.target)
        elif finding.kind == "lease":
            await self._leases.release_port(int(finding.target))
        elif finding.kind == "process":
            await self._backend.terminate(int(finding.target), [], grace=self._grace_s)


def _directories(root: Path) -> list[Path]:
    try:
        return sorted(path for path in root.iterdir() if path.is_dir())
    except FileNotFoundError:
        return []


async def _uncommitted(path: Path) -> str | None:
    """Why removing the directory could lose work, if it could."""
    if not await asyncio.to_thread((path / ".git").exists):
        return None
    status = await run_git(path, "status", "--porcelain", check=False)
    if status.returncode != 0:
        return None  # no longer a working git worktree (its repository is gone)
    changed = len(status.stdout.splitlines())
    return f"{changed} uncommitted change(s)" if changed else None


async def _commits_only_on(repo: Path, branch: str) -> int:
    """Commits of `branch` that no other branch or tag has."""
    counted = await run_git(
        repo, "rev-list", "--count", f"refs/heads/{branch}", "--not",
        # --branches matches without `refs/heads/`: so must the pattern that leaves it out.
        f"--exclude={branch}", "--branches", "--tags",
        check=False,
    )  # fmt: skip
    try:
        return int(counted.stdout.strip())
    except ValueError:
        return 0
