"""The workflow engine on real cells: the order of a run, retry resuming at the failed
step, steps that always run again, a worktree removed by hand, compensation."""

from __future__ import annotations

import shutil

from hive.core.status import CellStatus

from ..conftest import MakeHive

STEPS = [
    "create_worktree",
    "allocate_ports",
    "run_setup",
    "ensure_services",
    "assemble_prompt",
    "ensure_agent_session",
    "mark_ready",
]


def top_level(rows: list[object]) -> list[str]:
    return [row.step for row in rows if ":" not in row.step]  # type: ignore[attr-defined]


async def test_a_create_runs_its_steps_in_order_and_checkpoints_each(make_hive: MakeHive) -> None:
    hive = await make_hive(setup=["true"])
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.READY
    assert cell.run_id is None and cell.last_setup_error is None
    # The last checkpoint, and mark_ready's row with it, lands just after the status
    # that makes the cell ready.
    cell = await hive.wait(cell.id, lambda c: list(c.completed_steps) == STEPS)
    rows = await hive.steps(cell.id)
    assert top_level(rows) == ["create_request_received", "create_cell_record", *STEPS]


async def test_setup_runs_before_services_that_need_what_it_made(make_hive: MakeHive) -> None:
    # A service that can start only after setup: any other order fails the cell.
    hive = await make_hive(
        setup=["echo made > made-by-setup.txt"],
        services={"app": {"run": "test -f made-by-setup.txt && exec sleep 300"}},
    )
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.READY, cell.last_setup_error


async def test_retry_resumes_at_the_failed_step(make_hive: MakeHive) -> None:
    hive = await make_hive(setup=["test -f fixed", "echo ok > setup-done"])
    first = await hive.settle((await hive.create()).id)
    assert first.status == CellStatus.ERROR
    failure = first.last_setup_error
    assert failure is not None and failure.step == "run_setup" and failure.exit_code == 1
    assert list(first.completed_steps) == ["create_worktree", "allocate_ports"]
    (first.worktree_path / "fixed").touch()
    retried = await hive.runtime.cells.retry(first.id)
    cell = await hive.settle(retried.id)
    assert cell.status == CellStatus.READY and cell.attempt == 2
    # mark_ready's row lands with its checkpoint, just after the status.
    cell = await hive.wait(cell.id, lambda c: list(c.completed_steps) == STEPS)
    retry_steps = top_level(await hive.steps(cell.id, retried.run_id))
    # The worktree was made and is there: not made again. Ports always run again.
    assert retry_steps == STEPS[1:]
    assert (cell.worktree_path / "setup-done").read_text() == "ok\n"


async def test_a_retry_makes_a_worktree_removed_by_hand_again(make_hive: MakeHive) -> None:
    hive = await make_hive(setup=["test -f ../unblock"])
    first = await hive.settle((await hive.create()).id)
    assert first.status == CellStatus.ERROR
    shutil.rmtree(first.worktree_path)
    (first.worktree_path.parent / "unblock").touch()
    retried = await hive.runtime.cells.retry(first.id)
    cell = await hive.settle(retried.id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    assert (cell.worktree_path / "README.md").exists()
    assert "create_worktree" in top_level(await hive.steps(cell.id, retried.run_id))


async def test_a_failed_run_stops_its_services_and_gives_their_ports_back(
    make_hive: MakeHive,
) -> None:
    hive = await make_hive(
        services={
            "web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"},
            "broken": {"run": "exit 4", "dependsOn": ["web"]},
        }
    )
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.ERROR
    failure = cell.last_setup_error
    assert failure is not None and failure.step == "ensure_services"
    assert "broken" in failure.message
    assert await hive.runtime.stores.leases.for_cell(cell.id) == []
    web = await hive.runtime.stores.services.get(cell.id, "web")
    assert web is not None and web.pid is None and web.status == "stopped"
