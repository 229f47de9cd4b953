"""The cell page's checklist rows, shaped from the API's cell and timing rows."""

from __future__ import annotations

from typing import Any

from hive.api.schemas import CellOut, TimingOut
from hive.web.cell_checklist import checklist, current_attempt

STEPS = ["create_worktree", "allocate_ports", "run_setup", "ensure_services", "mark_ready"]


def cell(status: str = "spawning", **fields: Any) -> CellOut:
    provisioning = {
        "done": 0,
        "total": len(STEPS),
        "current_step": None,
        "current_substep": None,
        "steps": STEPS,
        "remaining": STEPS,
        **fields.pop("provisioning", {}),
    }
    body: dict[str, Any] = {
        "id": "c1",
        "name": "cell",
        "description": None,
        "constraints": [],
        "success_criteria": [],
        "status": status,
        "template_id": "basic",
        "workspace_id": "w1",
        "workspace_path": "/cells/c1",
        "worktree_path": "/cells/c1",
        "branch_name": "hive/cell",
        "base_ref": None,
        "base_commit": None,
        "attempt": 1,
        "run_id": "run1",
        "completed_steps": [],
        "last_setup_error": None,
        "progress": None,
        "provisioning": provisioning,
        "eta": None,
        "agent": None,
        "options": {},
        "created_at": "2026-12-02T10:00:00Z",
        "updated_at": "2026-12-02T10:00:00Z",
        **fields,
    }
    return CellOut.model_validate(body)


def row(step: str, status: str = "ok", run: str = "run1", ms: float = 12.0) -> TimingOut:
    return TimingOut.model_validate(
        {
            "id": None,
            "cell_id": "c1",
            "cell_name": "cell",
            "workspace_id": "w1",
            "template_id": "basic",
            "workflow": "create",
            "run_id": run,
            "step": step,
            "status": status,
            "started_at": "2026-12-02T10:00:00Z",
            "duration_ms": ms,
            "attempt": 1,
            "error": None if status == "ok" else "it broke",
            "metadata": None,
            "created_at": None,
        }
    )


def states(rows: list[Any]) -> dict[str, str]:
    return {r.step: r.state for r in rows}


def test_done_steps_carry_their_duration_and_the_running_one_what_it_is_at() -> None:
    shown = checklist(
        cell(
            provisioning={
                "done": 2,
                "current_step": "run_setup",
                "current_substep": "run_setup:2",
                "remaining": STEPS[2:],
            },
            progress={
                "step": "run_setup:2",
                "done": 1,
                "total": 3,
                "command": "npm ci",
                "try": 2,
                "tries": 3,
                "runId": "run1",
            },
        ),
        [row("create_worktree", ms=850), row("allocate_ports"), row("create_worktree", run="old")],
    )
    assert states(shown) == {
        "create_worktree": "done",
        "allocate_ports": "done",
        "run_setup": "running",
        "ensure_services": "waiting",
        "mark_ready": "waiting",
    }
    assert shown[0].duration_ms == 850
    assert shown[2].detail == "command 2 of 3: npm ci (try 2 of 3)"


def test_include_copy_progress_counts_files() -> None:
    shown = checklist(
        cell(
            provisioning={
                "current_step": "create_worktree",
                "current_substep": "create_worktree:include_copy",
            },
            progress={"step": "create_worktree:include_copy", "done": 1200, "total": 20000},
        ),
        [],
    )
    assert shown[0].detail == "copying included files: 1,200 of 20,000"


def test_services_started_but_not_ready_are_named() -> None:
    shown = checklist(
        cell(
            provisioning={"current_step": "ensure_services", "remaining": STEPS[3:]},
        ),
        [
            row("ensure_services:start:db"),
            row("ensure_services:ready:db"),
            row("ensure_services:start:web"),
        ],
    )
    assert shown[3].detail == "waiting for web to be ready"


def test_a_failed_run_marks_its_step_and_leaves_later_ones_waiting() -> None:
    failure = {
        "kind": "setup_command",
        "step": "run_setup",
        "message": "setup command 2 of 2 exited with 3",
        "run_id": "run2",
        "attempt": 2,
        "at": "2026-12-02T10:00:00Z",
        "occurred_at": "2026-12-02T10:00:00Z",
        "hint": "fix it, then retry",
        "rollback": [],
    }
    shown = checklist(
        cell(
            "error",
            run_id=None,
            last_setup_error=failure,
            completed_steps=["create_worktree"],
            provisioning={"remaining": STEPS[2:]},
        ),
        [row("allocate_ports", run="run2"), row("run_setup", status="error", run="run2")],
    )
    # create_worktree was done on the first attempt: this run skipped it.
    assert states(shown) == {
        "create_worktree": "earlier",
        "allocate_ports": "done",
        "run_setup": "failed",
        "ensure_services": "waiting",
        "mark_ready": "waiting",
    }
    assert shown[2].error == "it broke"


def test_the_setup_output_shown_is_the_latest_attempts() -> None:
    log = "[hive] attempt 1 · run a\nfirst\n[hive] attempt 2 · run b\nsecond\n"
    assert current_attempt(log) == "[hive] attempt 2 · run b\nsecond\n"
    assert current_attempt("no marks\n") == "no marks\n"
