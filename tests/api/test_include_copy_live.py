"""A big include-copy through the real server: the API stays responsive, progress moves.

The copy is held part-way on one file of the tree (tests/support/held_file.py), so the
tests look at a copy that is certainly still running, however fast the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from hive.workspace.copy_process import WORKER_MODULE
from hive.workspace.include_rules import IncludeRules
from hive.workspace.tree_walk import CopyPlan, CopyWork, walk_in_batches
from tests.support.crash import wait_for
from tests.support.held_file import HeldFile
from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive

STEPS = (
    "create_worktree",
    "allocate_ports",
    "run_setup",
    "ensure_services",
    "assemble_prompt",
    "ensure_agent_session",
    "mark_ready",
)


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose ignored node_modules holds 20,000 files; shared by the module."""
    template = basic_template(setup=[], includePatterns=["./.env*", "node_modules/**"])
    repo = make_repo(tmp_path_factory.mktemp("big") / "repo", {"basic": template})
    for index in range(20_000):
        package = repo / "node_modules" / f"pkg{index // 100}"
        if index % 100 == 0:
            package.mkdir(parents=True)
        (package / f"f{index}.js").write_text(f"module.exports = {index}\n")
    return repo


@pytest.fixture(scope="module")
def held(big_repo: Path) -> Path:
    """The file the tests hold the copy on: one the copy reaches early, when part of the
    files are done (the walk lists them in this order; the copy goes by the list)."""
    batches: list[CopyWork] = []
    rules = IncludeRules.build(["node_modules/**"], [])
    walk_in_batches(big_repo, CopyPlan(trees=["node_modules"]), rules, batches.append)
    return Path(batches[0].files[600])


def _copying(cell: dict[str, Any]) -> bool:
    progress = cell["progress"]
    return bool(progress) and progress["step"] == "create_worktree:include_copy"


def _copy_workers_with_a_job() -> list[psutil.Process]:
    """This process's copy workers that are copying: a job runs its input reader and
    progress reporter on threads of their own beside the copy, where a spare waits on
    one thread, two while it loads a checkout's modules."""
    found = []
    for child in psutil.Process().children():
        with suppress(psutil.NoSuchProcess):
            if WORKER_MODULE in child.cmdline() and child.num_threads() > 2:
                found.append(child)
    return found


def _ended(process: psutil.Process) -> bool:
    try:
        return bool(process.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def test_health_answers_and_progress_moves_during_a_20000_file_copy(
    start_hive: Callable[..., LiveHive], big_repo: Path, held: Path
) -> None:
    hive = start_hive([big_repo])
    with HeldFile(big_repo / held) as hold:
        cell = hive.create("big copy")
        hold.wait_reached()  # the copy waits on that file: it cannot finish meanwhile
        # The copy is running right now: the server must still answer at once.
        with httpx.Client(base_url=hive.url, timeout=10) as probe:
            assert probe.get("/health").status_code == 200
        # Files before the held one are done (progress moved), the rest cannot be yet.
        seen = hive.wait_for(
            cell["id"],
            lambda c: _copying(c) and 0 < c["progress"]["done"] < c["progress"]["total"],
        )
        assert seen["status"] == "spawning"
        assert seen["provisioning"] == {
            "done": 0,
            "total": len(STEPS),
            "currentStep": "create_worktree",
            "currentSubstep": "create_worktree:include_copy",
            "steps": list(STEPS),
            "remaining": list(STEPS),
        }
        assert hive.cell(cell["id"])["status"] == "spawning", "held, the copy goes on"
    detail = hive.settle(cell["id"], timeout=300)
    assert detail["status"] == "ready", detail
    worktree = Path(detail["workspacePath"])
    assert (worktree / held).read_text() == (big_repo / held).read_text()
    assert (worktree / "node_modules" / "pkg199" / "f19999.js").exists()

    steps = hive.http.get(f"/api/cells/{cell['id']}/timings").json()["steps"]
    copy = next(s for s in steps if s["step"] == "create_worktree:include_copy")
    meta = copy["metadata"]
    assert meta["files"] == 20_001  # node_modules and the top-level .env
    assert meta["staticRoots"] == ["node_modules"]
    assert meta["reflinked"] + meta["fallback"] == meta["files"]
    for key in ("patterns", "bytes", "symlinks", "enumerateMs", "copyMs"):
        assert key in meta


def test_delete_during_the_copy_stops_it_and_leaves_nothing_behind(
    start_hive: Callable[..., LiveHive], big_repo: Path, held: Path
) -> None:
    hive = start_hive([big_repo])
    with HeldFile(big_repo / held) as hold:
        cell = hive.create("deleted while copying")
        hold.wait_reached()  # the copy is part-way and cannot finish meanwhile
        assert hive.cell(cell["id"])["status"] == "spawning"
        # The checkout runs beside the copy and is not held: once it has made the
        # branch, the delete has a branch to remove as well as a copy to stop.
        wait_for(lambda: git(big_repo, "branch", "--list", cell["branchName"]), what="branch")
        [copier] = _copy_workers_with_a_job()
        # Held until the delete has answered: the delete must end a copy stuck on a
        # file (the worker does not answer its stop, so it is killed) and wait for it.
        outcome = hive.http.delete(f"/api/cells/{cell['id']}")
        # The worker, the only process writing into the worktree, ended before the
        # delete answered, and the worktree was gone then: nothing can bring files back.
        assert _ended(copier), "the delete answered while the copy was still running"
    assert outcome.status_code == 200, outcome.text
    assert outcome.json()["branch"]["deleted"] is True, outcome.json()
    worktree = Path(cell["workspacePath"])
    assert not worktree.exists()
    assert git(big_repo, "branch", "--list", cell["branchName"]) == ""
    assert str(worktree) not in git(big_repo, "worktree", "list")
    timings = hive.http.get("/api/cells/timings/global", params={"cellId": cell["id"]}).json()
    steps = {step["step"]: step for step in timings["steps"]}
    assert steps["cancel_provisioning"]["metadata"]["cancelledRun"] is True
    assert steps["create_worktree:include_copy"]["status"] == "error", "the copy never ended"
    assert "run_setup" not in steps
