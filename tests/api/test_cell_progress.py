"""A cell's `provisioning` checklist and `eta` through the real HTTP API.

Each cell is held in its second setup command until the test creates the file that
command waits for, so the test reads the cell at a point it chose, not one it hopes for;
the third fails when the test has made `<name>.fail`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.repos import basic_template, make_repo
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


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return tmp_path / "release"


@pytest.fixture
def held(start_hive: Callable[..., LiveHive], tmp_path: Path, release: Path) -> LiveHive:
    release.mkdir()
    wait = f'while [ ! -e "{release}/$HIVE_CELL_NAME" ]; do sleep 0.02; done'
    fail = f'test ! -e "{release}/$HIVE_CELL_NAME.fail"'
    template = basic_template(setup=["echo first", wait, fail])
    return start_hive([make_repo(tmp_path / "repo", {"basic": template})])


def in_second_command(cell: dict[str, Any]) -> bool:
    return bool(cell["provisioning"]["currentSubstep"] == "run_setup:2")


def step_durations(hive: LiveHive, cell_id: str) -> dict[str, float]:
    rows = hive.http.get(f"/api/cells/{cell_id}/timings").json()["steps"]
    return {row["step"]: row["durationMs"] for row in rows}


NO_HISTORY = {
    "expectedTotalMs": None,
    "remainingMs": None,
    "basis": "none",
    "runs": 0,
    "defaultedSteps": [],
}


def test_first_cell_has_no_history_and_the_second_is_estimated_from_it(
    held: LiveHive, release: Path
) -> None:
    created = held.create("first")
    assert created["status"] == "pending"
    assert created["provisioning"] == {
        "done": 0,
        "total": len(STEPS),
        "currentStep": None,
        "currentSubstep": None,
        "steps": list(STEPS),
        "remaining": [
            "create_worktree",
            "allocate_ports",
            "run_setup",
            "ensure_services",
            "assemble_prompt",
            "ensure_agent_session",
            "mark_ready",
        ],
    }
    assert created["eta"] == NO_HISTORY

    first = held.wait_for(created["id"], in_second_command)
    assert first["status"] == "spawning"
    assert first["provisioning"] == {
        "done": 2,
        "total": len(STEPS),
        "currentStep": "run_setup",
        "currentSubstep": "run_setup:2",
        "steps": list(STEPS),
        "remaining": [
            "run_setup",
            "ensure_services",
            "assemble_prompt",
            "ensure_agent_session",
            "mark_ready",
        ],
    }
    assert first["eta"] == NO_HISTORY
    listed = held.http.get("/api/cells").json()["cells"]
    assert [c["eta"] for c in listed] == [NO_HISTORY]

    (release / "first").touch()
    first = held.settle(first["id"])
    assert first["status"] == "ready"
    assert (
        first["provisioning"]["done"] == len(STEPS) and first["provisioning"]["currentStep"] is None
    )
    assert first["eta"] is None
    past = step_durations(held, first["id"])
    total = sum(past[step] for step in STEPS)

    # Nothing done, nothing running: the whole of the first run is still to come.
    created = held.create("second")
    assert created["status"] == "pending"
    assert created["eta"]["basis"] == "history" and created["eta"]["runs"] == 1
    assert created["eta"]["expectedTotalMs"] == pytest.approx(total, abs=0.1)
    assert created["eta"]["remainingMs"] == pytest.approx(total, abs=0.1)

    second = held.wait_for(created["id"], in_second_command)
    assert second["provisioning"]["done"] == 2
    eta = second["eta"]
    assert eta["basis"] == "history" and eta["runs"] == 1 and eta["defaultedSteps"] == []
    assert eta["expectedTotalMs"] == pytest.approx(total, abs=0.1)
    # Left: what run_setup took the first time less what it has run now (at least its
    # first command, already finished), then the later steps as the first run had them.
    later = sum(past[step] for step in STEPS[STEPS.index("ensure_services") :])
    already = step_durations(held, second["id"])["run_setup:1"]
    assert later - 0.1 <= eta["remainingMs"]
    assert eta["remainingMs"] <= max(0.0, past["run_setup"] - already) + later + 0.1
    by_id = {c["id"]: c["eta"] for c in held.http.get("/api/cells").json()["cells"]}
    assert by_id[first["id"]] is None and by_id[second["id"]]["basis"] == "history"

    (release / "second").touch()
    second = held.settle(second["id"])
    assert second["status"] == "ready" and second["eta"] is None
    assert second["provisioning"] == {
        "done": len(STEPS),
        "total": len(STEPS),
        "currentStep": None,
        "currentSubstep": None,
        "steps": list(STEPS),
        "remaining": [],
    }


def test_a_failed_run_is_no_history_and_its_retry_shows_what_runs_again(
    held: LiveHive, release: Path
) -> None:
    doomed = held.wait_for(held.create("doomed")["id"], in_second_command)
    (release / "doomed.fail").touch()
    (release / "doomed").touch()
    doomed = held.settle(doomed["id"])
    assert doomed["status"] == "error"
    assert doomed["lastSetupError"]["step"] == "run_setup"
    assert doomed["provisioning"] == {
        "done": 2,
        "total": len(STEPS),
        "currentStep": None,
        "currentSubstep": None,
        "steps": list(STEPS),
        "remaining": [
            "run_setup",
            "ensure_services",
            "assemble_prompt",
            "ensure_agent_session",
            "mark_ready",
        ],
    }
    assert doomed["eta"] is None

    after = held.wait_for(held.create("after")["id"], in_second_command)
    assert after["eta"] == NO_HISTORY
    (release / "after").touch()
    assert held.settle(after["id"])["status"] == "ready"

    # A retry skips the worktree, makes the ports again and holds in setup once more.
    (release / "doomed").unlink()
    (release / "doomed.fail").unlink()
    retried = held.http.post(f"/api/cells/{doomed['id']}/retry").json()
    assert retried["provisioning"]["done"] == 1
    assert retried["eta"]["basis"] == "history" and retried["eta"]["runs"] == 1
    retried = held.wait_for(doomed["id"], in_second_command)
    assert retried["runId"] != doomed["lastSetupError"]["runId"]
    assert retried["provisioning"]["done"] == 2
    assert retried["provisioning"]["currentStep"] == "run_setup"
    (release / "doomed").touch()
    assert held.settle(doomed["id"])["status"] == "ready"
