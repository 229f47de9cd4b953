"""Can this template make a cell here, now? Its `requires` and what every cell needs,
checked against this machine and the repository: what `POST /api/templates/{id}/validate`
answers, and what a create runs first (a failed check refuses it unless forced).

Each check says what is wrong and what to do. Env variables are named, never shown.
The checks that block (PATH lookups, stat calls, the free-space reading, port binds)
run together in one worker thread; the git one is a subprocess beside it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from hive.config.schema import ProcessService, Template
from hive.core.errors import ConflictError, HiveError
from hive.ports.probe import port_holder, port_is_free
from hive.provisioning.environment import USER_BASICS, user_basics, variable_names
from hive.store.leases import LeaseStore
from hive.workspace.git import resolve_commit

#: Below this much free space where worktrees are made, a cell is refused: a checkout,
#: its include-copy and its logs need room.
MIN_FREE_BYTES = 300 * 1024 * 1024

#: How long a repository found with a commit is taken to still have one: a burst of
#: creates then costs one git process per workspace, not one each.
GIT_SEEN_FOR_S = 30.0


@dataclass(frozen=True)
class Check:
    name: str
    """What was checked: `git`, `cells-root`, `command:node`, `file:package.json`,
    `env:OPENAI_API_KEY`, `port:db`, `agent`."""
    ok: bool
    message: str
    """What was found; when not ok, what to do."""


class ChecksFailedError(ConflictError):
    """A create refused because the template fails checks here (409): the request is
    fine, this machine or repository is not ready for it."""

    def __init__(self, template_id: str, failed: Sequence[Check]) -> None:
        listed = "; ".join(f"{check.name}: {check.message}" for check in failed)
        super().__init__(
            f"template '{template_id}' fails {len(failed)} check(s): {listed}",
            hint="fix what the checks name (POST /api/templates/{id}/validate, "
            "`hive templates --check`), or create the cell anyway with force "
            "(`hive new --force`)",
        )
        self.checks = tuple(failed)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "checks": [asdict(check) for check in self.checks]}


class OpenCodeAvailability(Protocol):
    """What the checks ask of the OpenCode host (agents/opencode_host.py)."""

    @property
    def available(self) -> bool: ...

    @property
    def unavailable_reason(self) -> str | None: ...


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


class TemplateChecks:
    def __init__(
        self,
        *,
        leases: LeaseStore,
        opencode: OpenCodeAvailability,
        environ: Mapping[str, str],
        worktrees_root: Path,
        free_bytes: Callable[[Path], int] = _free_bytes,
    ) -> None:
        self._leases = leases
        self._opencode = opencode
        self._environ = dict(environ)
        self._basics = user_basics(environ)
        self._worktrees_root = worktrees_root
        self._free_bytes = free_bytes
        # Repository → (when, its passed git check); failures are never kept.
        self._committed: dict[Path, tuple[float, Check]] = {}

    async def run(self, repo: Path, template: Template) -> list[Check]:
        """Every check of `template` (its options applied) for a cell of `repo`."""
        leased: dict[str, str] = {}
        for service, port in fixed_ports(template).items():
            holder = await self._leases.holder(port)
            if holder is not None:
                leased[service] = f"service '{holder.service}' of cell '{holder.cell_id}'"
        git, rest = await asyncio.gather(
            self._git(repo), asyncio.to_thread(self._blocking, repo, template, leased)
        )
        return [git, *rest]

    async def _git(self, repo: Path) -> Check:
        seen = self._committed.get(repo)
        if seen is not None and time.monotonic() - seen[0] < GIT_SEEN_FOR_S:
            return seen[1]
        check = await _git_check(repo)
        if check.ok:
            self._committed[repo] = (time.monotonic(), check)
        else:
            self._committed.pop(repo, None)
        return check

    def _blocking(self, repo: Path, template: Template, leased: Mapping[str, str]) -> list[Check]:
        requires = template.requires
        checks = [_cells_root(self._worktrees_root, self._free_bytes)]
        if requires is not None:
            path = template.env.get("PATH", self._basics.get("PATH", "")) or os.defpath
            checks += [_command(command, path) for command in requires.commands]
            checks += [_file(repo, name) for name in requires.files]
            names = variable_names(template, self._basics)
            checks += [self._env(name, names) for name in requires.env]
        checks += [
            _port(service, port, leased.get(service))
            for service, port in fixed_ports(template).items()
        ]
        checks.append(self._agent(template))
        return checks

    def _env(self, name: str, names: set[str]) -> Check:
        check = f"env:{name}"
        if name in names:
            return Check(check, True, f"`{name}` is set in the environment a cell gets")
        if name in self._environ:
            return Check(
                check,
                False,
                f"`{name}` is set in the server's environment, but a cell gets only "
                f"{', '.join(USER_BASICS[:3])}… of it: set it in the template's `env` "
                "(or an option's)",
            )
        return Check(
            check,
            False,
            f"`{name}` is not set in the environment a cell gets: set it in the "
            "template's `env` (or an option's)",
        )

    def _agent(self, template: Template) -> Check:
        agent = template.agent
        host = self._opencode
        if agent is None:
            if host.available:
                return Check("agent", True, "no agent configured: cells get OpenCode")
            return Check(
                "agent",
                True,
                "no agent configured and OpenCode is unavailable: cells start without an "
                f"agent ({host.unavailable_reason})",
            )
        if agent.kind == "none":
            return Check("agent", True, "no agent (`type: none`)")
        if agent.kind == "command":
            found = shutil.which("tmux", path=self._environ.get("PATH", os.defpath))
            if found is None:
                return Check(
                    "agent",
                    False,
                    "a command agent runs in tmux, which is not on the server's PATH: install tmux",
                )
            return Check("agent", True, f"command agent, in tmux ({found})")
        if not host.available:
            reason = host.unavailable_reason or "OpenCode is not configured"
            return Check("agent", False, f"the template's agent is OpenCode: {reason}")
        return Check("agent", True, "OpenCode is available")


def fixed_ports(template: Template) -> dict[str, int]:
    """The services of `template` with a fixed port (a number, not a range)."""
    return {
        name: service.port
        for name, service in template.services.items()
        if isinstance(service, ProcessService) and isinstance(service.port, int)
    }


async def _git_check(repo: Path) -> Check:
    try:
        head = await resolve_commit(repo, "HEAD")
    except HiveError as exc:
        return Check(
            "git",
            False,
            f"{repo} is not a git repository git can read ({exc.message}): register the "
            "repository's root, or repair it",
        )
    if head is None:
        return Check(
            "git",
            False,
            f"{repo} has no commit yet: commit something first (a cell's worktree starts "
            "from a commit)",
        )
    return Check("git", True, f"{repo} is a git repository (HEAD {head[:12]})")


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def _cells_root(root: Path, free_bytes: Callable[[Path], int]) -> Check:
    # The root is made with the first cell: judge the directory it will be made in.
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    where = str(root) if existing == root else f"{root} (to be made in {existing})"
    if not existing.is_dir():
        return Check(
            "cells-root",
            False,
            f"{where}: {existing} is not a directory: set HIVE_WORKTREES_ROOT to a directory",
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        return Check(
            "cells-root",
            False,
            f"{where} is not writable by Hive: fix its permissions, or set "
            "HIVE_WORKTREES_ROOT to a directory it can write",
        )
    try:
        free = free_bytes(existing)
    except OSError as exc:
        return Check("cells-root", False, f"{where}: cannot read its free space: {exc}")
    if free < MIN_FREE_BYTES:
        return Check(
            "cells-root",
            False,
            f"only {_size(free)} free for {where} (a cell needs at least "
            f"{_size(MIN_FREE_BYTES)}): free space (`hive gc`, `hive rm`), or set "
            "HIVE_WORKTREES_ROOT to a roomier file system",
        )
    return Check("cells-root", True, f"{where} is writable, {_size(free)} free")


def _command(command: str, path: str) -> Check:
    found = shutil.which(command, path=path)
    if found is None:
        return Check(
            f"command:{command}",
            False,
            f"`{command}` is not on the PATH a cell gets ({path}): install it, or set "
            "PATH in the template's `env`",
        )
    return Check(f"command:{command}", True, f"`{command}` is {found}")


def _file(repo: Path, name: str) -> Check:
    if (repo / name).exists():
        return Check(f"file:{name}", True, f"`{name}` is in the repository")
    return Check(
        f"file:{name}",
        False,
        f"`{name}` is not in {repo}: add it, or drop it from the template's `requires.files`",
    )


def _port(service: str, port: int, leased_to: str | None) -> Check:
    check = f"port:{service}"
    instead = f"or give '{service}' a port range such as '{port}-{min(port + 99, 65535)}'"
    if leased_to is not None:
        return Check(
            check,
            False,
            f"port {port} is leased to {leased_to}: delete or archive that cell, {instead}",
        )
    if not port_is_free(port):
        holder = port_holder(port)
        by = f" by {holder}" if holder else " by another program"
        return Check(check, False, f"port {port} is in use{by}: stop it, {instead}")
    return Check(check, True, f"port {port} is free")
