"""What `hive timings` prints, rendered by Rich at 80 columns as a terminal would."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console, RenderableType

from hive.cli.timing_views import (
    bar,
    chain_heading,
    chain_table,
    duration,
    gantt,
    parents_first,
    run_heading,
    steps_table,
    summary_heading,
    summary_table,
)

LONG = "ensure_services:ready:a-service-with-a-really-long-name-from-the-config"


def render(*items: RenderableType, width: int = 80) -> tuple[list[str], Console]:
    console = Console(width=width, record=True, file=io.StringIO(), color_system="truecolor")
    for item in items:
        console.print(item)
    return console.export_text(clear=False).splitlines(), console


def bold(console: Console, table: RenderableType, word: str) -> bool:
    """Whether the text `word` is drawn bold: how the slowest row stands out."""
    segments = [seg for seg in console.render(table) if word in seg.text]
    assert segments, word
    return all(seg.style is not None and seg.style.bold for seg in segments)


def fits(lines: list[str], width: int = 80) -> None:
    assert lines and all(len(line) <= width for line in lines), lines


def step(name: str, ms: float, status: str = "ok") -> dict[str, Any]:
    return {"step": name, "durationMs": ms, "status": status, "runId": "r1"}


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0.4, "0 ms"), (850, "850 ms"), (12_340, "12.3 s"), (125_000, "2m 05s")],
)
def test_duration(ms: float, shown: str) -> None:
    assert duration(ms) == shown


def test_bars() -> None:
    assert bar(50, 100, 20) == "█" * 10
    assert bar(0.1, 100, 20) == "█"
    assert bar(0, 100) == "" and bar(5, 0) == ""
    assert gantt(50, 25, 100, 20) == " " * 10 + "█" * 5
    assert gantt(100, 0, 100, 20) == " " * 19 + "█"


def test_steps_table_highlights_the_slowest_step_and_fits() -> None:
    steps = [  # as recorded: parts before their step
        step("create_worktree:git_add", 100),
        step("create_worktree", 120),
        step("run_setup", 3400),
        step(LONG, 5000),  # a sub-step: never "the slowest step"
        step("mark_ready", 2, "error"),
    ]
    run = {
        "workflow": "create",
        "runId": "r1",
        "attempt": 1,
        "totalMs": 3522,
        "status": "error",
        "failedStep": "mark_ready",
    }
    lines, console = render(run_heading(run), steps_table(steps))
    fits(lines)
    assert lines[0] == "create run r1 (attempt 1): 3.5 s, failed at mark_ready"
    setup = next(line for line in lines if "run_setup" in line)
    assert "3.4 s" in setup and "█" in setup
    names = [line.split()[0] for line in lines[2:] if line.split()]
    assert names[:2] == ["create_worktree", "create_worktree:git_add"]
    assert bold(console, steps_table(steps), "run_setup")
    for other in ("create_worktree", "mark_ready", "a-service"):
        assert not bold(console, steps_table(steps), other)


def test_chain_table_shows_offsets_and_fits() -> None:
    chain = {
        "runId": "r1",
        "workflow": "create",
        "attempt": 2,
        "status": "ok",
        "totalMs": 1000,
        "links": [
            {"step": "run_setup", "offsetMs": 0, "durationMs": 400, "status": "ok", "depth": 0},
            {
                "step": "ensure_services",
                "offsetMs": 400,
                "durationMs": 590,
                "status": "ok",
                "depth": 0,
            },
            {"step": LONG, "offsetMs": 400, "durationMs": 590, "status": "ok", "depth": 1},
            {"step": "mark_ready", "offsetMs": 990, "durationMs": 10, "status": "ok", "depth": 0},
        ],
    }
    lines, _ = render(chain_heading(chain), chain_table(chain))
    fits(lines)
    assert lines[0] == "critical chain of create run r1 (attempt 2): 1.0 s"
    ready = next(line for line in lines if "mark_ready" in line)
    assert "+990 ms" in ready and "10 ms" in ready
    services = next(line for line in lines if line.startswith("ensure_services"))
    assert "+400 ms" in services and " " * 8 + "█" in services
    assert "a-service" in "".join(lines)  # the long name folds, it is not cut
    empty = {"runId": None}
    assert render(chain_heading(empty))[0] == ["no create or retry run recorded yet"]


def test_summary_table_fits() -> None:
    template = {
        "templateId": "web",
        "runs": [
            {"workflow": "create", "count": 120, "p50Ms": 2100, "p90Ms": 4800, "failureRate": 0.05}
        ],
        "steps": [
            {
                "step": "create_worktree",
                "count": 120,
                "p50Ms": 90,
                "p90Ms": 300,
                "maxMs": 2000,
                "failureRate": 0,
            },
            {
                "step": LONG,
                "count": 118,
                "p50Ms": 800,
                "p90Ms": 2500,
                "maxMs": 125_000,
                "failureRate": 0.25,
            },
            {
                "step": "run_setup",
                "count": 120,
                "p50Ms": 1500,
                "p90Ms": 4000,
                "maxMs": 9000,
                "failureRate": 0.05,
            },
        ],
    }
    lines, _ = render(summary_heading(template), summary_table(template))
    fits(lines)
    assert lines[0] == "web  create: 120 runs, p50 2.1 s, p90 4.8 s, 5% failed"
    setup = next(line for line in lines if line.startswith("run_setup"))
    assert setup.split()[1:6] == ["120", "1.5", "s", "4.0", "s"]
    assert "25%" in "".join(lines) and "2m 05s" in "".join(lines)
    console = render()[1]
    assert bold(console, summary_table(template), "run_setup")
    assert not bold(console, summary_table(template), "create_worktree")


def test_parents_first() -> None:
    rows = [step(name, 1) for name in ("a:1", "a:2", "a", "b", "c:1", "d:1", "d")]
    assert [r["step"] for r in parents_first(rows)] == ["a", "a:1", "a:2", "b", "d", "d:1", "c:1"]
