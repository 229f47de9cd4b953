"""The provisioning checklist, driven by the events a cell's stream sends."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from hive.cli.checklist import Checklist

STEPS = (
    "create_worktree",
    "allocate_ports",
    "run_setup",
    "ensure_services",
    "assemble_prompt",
    "mark_ready",
)


def timing(step: str, phase: str = "end", run: str = "r1", **extra: Any) -> dict[str, Any]:
    status = "running" if phase == "begin" else extra.pop("status", "ok")
    return {
        "step": step,
        "phase": phase,
        "runId": run,
        "workflow": extra.pop("workflow", "create"),
        "status": status,
        "durationMs": 0.0 if phase == "begin" else extra.pop("ms", 12.0),
        "error": extra.pop("error", None),
        "metadata": extra.pop("metadata", None),
    }


def shown(checklist: Checklist, now: float = 0.0) -> str:
    console = Console(width=100, record=True, color_system=None)
    console.print(checklist.render(now))
    return console.export_text()


def states(checklist: Checklist) -> dict[str, str]:
    return {name: row.state for name, row in checklist.rows.items()}


def test_steps_tick_off_one_line_each_and_sub_steps_show_their_command() -> None:
    checklist = Checklist("c1", STEPS, run_id="r1")
    assert checklist.apply("timing", timing("create_worktree", "begin"), now=1.0) == []
    assert states(checklist)["create_worktree"] == "running"
    [line] = checklist.apply("timing", timing("create_worktree", ms=1500.0))
    assert line == "  [green]✓[/] create_worktree [dim]1.5 s[/]"
    checklist.apply("timing", timing("run_setup", "begin"))
    [part] = checklist.apply(
        "timing", timing("run_setup:1", ms=40.0, metadata={"command": "npm ci"})
    )
    assert part == "    [green]✓[/] run_setup:1 [dim]40 ms[/]  [dim]npm ci[/]"
    assert states(checklist)["allocate_ports"] == "earlier", "skipped: done on an earlier run"


def test_a_failed_step_shows_its_error() -> None:
    checklist = Checklist("c1", STEPS, run_id="r1")
    checklist.apply("timing", timing("run_setup", "begin"))
    [line] = checklist.apply(
        "timing", timing("run_setup", status="error", ms=3.0, error="exit code 2: make")
    )
    assert line == "  [red]✗[/] run_setup [dim]3 ms[/]  [red]exit code 2: make[/]"
    assert "✗ run_setup" in shown(checklist) and "exit code 2: make" in shown(checklist)


def test_the_running_step_shows_its_sub_step_and_progress() -> None:
    checklist = Checklist("c1", STEPS, run_id="r1")
    checklist.apply("timing", timing("create_worktree", "begin"), now=10.0)
    progress = {"step": "create_worktree:include_copy", "done": 12400, "total": 20000}
    checklist.apply("progress", {**progress, "runId": "r1"})
    assert "include_copy 12,400/20,000 files" in shown(checklist, now=12.0)
    assert "2.0 s" in shown(checklist, now=12.0), "a running step counts its time"
    checklist.apply("progress", {**progress, "runId": "other", "done": 1})
    assert "12,400/20,000" in shown(checklist), "another run's progress is not this one's"
    checklist.apply("timing", timing("create_worktree"))
    checklist.apply("timing", timing("run_setup", "begin"))
    checklist.apply("progress", {"step": "run_setup:2", "done": 1, "total": 3, "runId": "r1"})
    assert "command 2 of 3" in shown(checklist)
    command = {"step": "run_setup:3", "done": 2, "total": 3, "runId": "r1", "command": "npm ci"}
    checklist.apply("progress", command)
    assert "command 3 of 3: npm ci" in shown(checklist)


def test_without_a_run_asked_for_the_latest_run_replaces_older_ones() -> None:
    checklist = Checklist("c1", STEPS)
    checklist.apply("timing", timing("create_worktree", run="r1"))
    checklist.apply("timing", timing("run_setup", status="error", run="r1"))
    checklist.apply("timing", timing("run_setup", "begin", run="r2", workflow="retry"))
    assert checklist.run_id == "r2"
    assert states(checklist) == {
        "create_worktree": "earlier",
        "allocate_ports": "earlier",
        "run_setup": "running",
        "ensure_services": "waiting",
        "assemble_prompt": "waiting",
        "mark_ready": "waiting",
    }
    checklist.apply("timing", timing("cleanup", run="r3", workflow="delete"))
    assert checklist.run_id == "r2", "a delete's steps are not a provisioning run"


def test_a_run_asked_for_ignores_every_other_run() -> None:
    checklist = Checklist("c1", STEPS, run_id="r2")
    assert checklist.apply("timing", timing("create_worktree", run="r1")) == []
    assert states(checklist)["create_worktree"] == "waiting"


def test_settling_ready_marks_what_did_not_run_and_ends_the_estimate() -> None:
    checklist = Checklist("c1", STEPS, run_id="r1")
    checklist.estimate({"basis": "history", "remainingMs": 4000, "runs": 3}, now=0.0)
    assert checklist.eta_text(1.5) == "about 2.5 s left (from 3 earlier runs)"
    assert checklist.eta_text(9.0) == "taking longer than usual (3 earlier runs)"
    checklist.apply("cell", {"status": "ready"})
    assert not checklist.settled, "only the run's last word (settled) ends it"
    checklist.apply("cell", {"status": "ready", "settled": True})
    assert checklist.settled and checklist.eta_text(1.0) is None
    assert set(states(checklist).values()) == {"earlier"}


def test_no_history_says_so_instead_of_a_number() -> None:
    checklist = Checklist("c1", STEPS)
    checklist.estimate({"basis": "none", "remainingMs": None, "runs": 0})
    assert checklist.eta_text(0.0) == "no estimate yet: this template has no finished run here"
    checklist.estimate(None)
    assert checklist.eta_text(0.0) is None


def test_a_removed_cell_ends_the_checklist() -> None:
    checklist = Checklist("c1", STEPS)
    assert checklist.apply("cell_removed", {"id": "c1"}) == ["[red]✗ the cell was deleted[/]"]
    assert checklist.settled and checklist.removed


def test_malformed_events_change_nothing() -> None:
    checklist = Checklist("c1", STEPS, run_id="r1")
    for event, data in [
        ("timing", None),
        ("timing", {"step": 3, "runId": "r1"}),
        ("timing", timing("no_such_step")),
        ("progress", {"step": "run_setup:1", "runId": "r1", "done": "x", "total": 2}),
        ("cell", {"status": None}),
        ("mystery", {"a": 1}),
    ]:
        assert checklist.apply(event, data) == []
    assert set(states(checklist).values()) == {"waiting"}


def test_each_try_of_a_retried_command_is_its_own_line() -> None:
    checklist = Checklist("c1", STEPS, run_id="r1")
    checklist.apply("timing", timing("run_setup", "begin"))
    [failed] = checklist.apply(
        "timing",
        timing("run_setup:1", status="error", error="exit 1", metadata={"command": "npm ci"}),
    )
    [again] = checklist.apply(
        "timing", timing("run_setup:1#2", metadata={"command": "npm ci", "try": 2})
    )
    assert failed.startswith("    [red]✗[/] run_setup:1 ")
    assert again.startswith("    [green]✓[/] run_setup:1#2 ")
    checklist.apply("timing", timing("run_setup"))
    assert states(checklist)["run_setup"] == "ok"
