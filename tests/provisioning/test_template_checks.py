"""TemplateChecks against a real repository, database and sockets: each check's verdict
and message, the free-space reading through its seam."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hive.config.schema import Template
from hive.provisioning.template_checks import MIN_FREE_BYTES, Check, TemplateChecks
from hive.store.database import Database, open_database
from hive.store.leases import LeaseStore
from tests.support.repos import git, make_repo


@dataclass
class FakeOpenCode:
    available: bool = False
    unavailable_reason: str | None = "OpenCode is turned off (HIVE_OPENCODE_BIN=none): …"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await open_database(tmp_path / "hive.db")
    yield db
    await db.close()


MakeChecks = Callable[..., TemplateChecks]


@pytest.fixture
def checks(db: Database, tmp_path: Path) -> MakeChecks:
    def make(**overrides: Any) -> TemplateChecks:
        options: dict[str, Any] = {
            "leases": LeaseStore(db),
            "opencode": FakeOpenCode(),
            "environ": {"PATH": os.environ["PATH"], "HOME": "/me", "SERVER_ONLY": "server-only"},
            "worktrees_root": tmp_path / "home" / "cells",
            **overrides,
        }
        return TemplateChecks(**options)

    return make


def template(**fields: Any) -> Template:
    return Template.model_validate({"id": "t", **fields})


async def run(checks: TemplateChecks, repo: Path, **fields: Any) -> dict[str, Check]:
    return {check.name: check for check in await checks.run(repo, template(**fields))}


async def test_a_plain_template_passes_in_a_committed_repository(
    checks: MakeChecks, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    found = await run(checks(), repo)
    assert list(found) == ["git", "cells-root", "agent"]
    assert all(check.ok for check in found.values()), found
    assert "(to be made in" in found["cells-root"].message  # not there yet


async def test_requirements_each_get_a_check(checks: MakeChecks, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    requires = {
        "commands": ["git", "hive-test-missing"],
        "files": ["README.md", "package.json"],
        "env": ["HOME", "APP_MODE", "HIVE_CELL_ID", "SERVER_ONLY", "NOWHERE"],
    }
    found = await run(checks(), repo, requires=requires, env={"APP_MODE": "x"})
    verdicts = {name: check.ok for name, check in found.items()}
    assert verdicts == {
        "git": True,
        "cells-root": True,
        "command:git": True,
        "command:hive-test-missing": False,
        "file:README.md": True,
        "file:package.json": False,
        "env:HOME": True,  # a user basic
        "env:APP_MODE": True,  # the template's
        "env:HIVE_CELL_ID": True,  # a cell fact
        "env:SERVER_ONLY": False,  # the server has it; cells do not get it
        "env:NOWHERE": False,
        "agent": True,
    }
    assert "not in" in found["file:package.json"].message
    assert "server's environment" in found["env:SERVER_ONLY"].message
    assert all("server-only" not in check.message for check in found.values())


async def test_commands_are_looked_up_on_the_cells_path(checks: MakeChecks, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    tools = tmp_path / "tools"
    tools.mkdir()
    tool = tools / "my-tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    requires = {"commands": ["my-tool"]}
    assert not (await run(checks(), repo, requires=requires))["command:my-tool"].ok
    on_path = await run(checks(), repo, requires=requires, env={"PATH": str(tools)})
    assert on_path["command:my-tool"].ok and str(tool) in on_path["command:my-tool"].message


async def test_too_little_room_fails_the_cells_root_check(
    checks: MakeChecks, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    tight = checks(free_bytes=lambda _path: MIN_FREE_BYTES - 1)
    check = (await run(tight, repo))["cells-root"]
    assert not check.ok and "hive gc" in check.message and "HIVE_WORKTREES_ROOT" in check.message
    roomy = checks(free_bytes=lambda _path: 50 * 1024**3)
    assert "50.0 GB free" in (await run(roomy, repo))["cells-root"].message


async def test_a_cells_root_under_a_file_fails(checks: MakeChecks, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    blocker = tmp_path / "file"
    blocker.write_text("")
    check = (await run(checks(worktrees_root=blocker / "cells"), repo))["cells-root"]
    assert not check.ok and "is not a directory" in check.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
async def test_a_cells_root_hive_cannot_write_fails(checks: MakeChecks, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    check = (await run(checks(worktrees_root=locked / "cells"), repo))["cells-root"]
    assert not check.ok and "not writable" in check.message


async def test_a_directory_that_is_no_repository_fails_the_git_check(
    checks: MakeChecks, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    check = (await run(checks(), plain))["git"]
    assert not check.ok and "not a git repository" in check.message


async def test_fixed_ports_held_by_a_program_or_a_cell_fail(
    checks: MakeChecks, db: Database, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            leased = probe.getsockname()[1]
        assert await LeaseStore(db).acquire(leased, "other-cell", "api")
        services = {
            "busy": {"run": "x", "port": busy},
            "leased": {"run": "x", "port": leased},
            "ranged": {"run": "x", "port": f"{busy}-{busy + 5}"},
        }
        found = await run(checks(), repo, services=services)
    assert not found["port:busy"].ok and f"port {busy} is in use" in found["port:busy"].message
    assert "service 'api' of cell 'other-cell'" in found["port:leased"].message
    assert "port:ranged" not in found  # a range finds a free port of its own


@pytest.mark.parametrize(
    ("agent", "available", "ok", "said"),
    [
        (None, False, True, "cells start without an agent"),
        (None, True, True, "cells get OpenCode"),
        ({"type": "none"}, False, True, "no agent"),
        ({"model": {"providerId": "p", "id": "m"}}, False, False, "HIVE_OPENCODE_BIN=none"),
        ({"type": "opencode"}, True, True, "OpenCode is available"),
        ({"type": "command", "run": "claude"}, False, True, "tmux"),
    ],
)
async def test_the_agent_check(
    checks: MakeChecks,
    tmp_path: Path,
    agent: dict[str, Any] | None,
    available: bool,
    ok: bool,
    said: str,
) -> None:
    repo = make_repo(tmp_path / "repo")
    host = FakeOpenCode(available=available)
    check = (await run(checks(opencode=host), repo, agent=agent))["agent"]
    assert check.ok is ok and said in check.message, check


async def test_a_command_agent_without_tmux_fails(checks: MakeChecks, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    no_tmux = checks(environ={"PATH": str(tmp_path)})
    check = (await run(no_tmux, repo, agent={"type": "command", "run": "claude"}))["agent"]
    assert not check.ok and "install tmux" in check.message


async def test_a_passed_git_check_is_kept_a_while_and_a_failed_one_never(
    checks: MakeChecks, tmp_path: Path
) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    same = checks()
    assert not (await run(same, repo))["git"].ok
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "first")
    assert (await run(same, repo))["git"].ok  # the failure was not kept
    (repo / ".git" / "HEAD").unlink()
    assert (await run(same, repo))["git"].ok  # seen with a commit moments ago
    assert not (await run(checks(), repo))["git"].ok  # a fresh look
