"""The copy worker process: real `python -m hive.workspace.copy_worker` children."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from hive.core.errors import StepError
from hive.workspace.copy_process import (
    WORKER_MODULE,
    CopyWorker,
    CopyWorkerPool,
    wait_through_cancel,
)
from hive.workspace.include_copy import copy_included
from hive.workspace.include_rules import IncludeRules
from hive.workspace.tree_copy import CopyTotals, Progress
from hive.workspace.tree_walk import CopyPlan, CopyWork, walk_in_batches, walk_plan


def _tree(root: Path, files: int) -> Path:
    tree = root / "node_modules"
    for index in range(files):
        path = tree / f"p{index % 40}" / f"f{index}.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"// {index}\n")
    return tree


def _work(repo: Path) -> CopyWork:
    return walk_plan(repo, CopyPlan(trees=["node_modules"]), IncludeRules.build(["x/**"], []))


def _queued(repo: Path) -> asyncio.Queue[CopyWork | None]:
    batches: asyncio.Queue[CopyWork | None] = asyncio.Queue()
    batches.put_nowait(_work(repo))
    batches.put_nowait(None)
    return batches


def _first_of_batches(repo: Path) -> tuple[CopyWork, int]:
    """The walk's first batch of `node_modules`, and how many files the whole walk has.

    A worker given only that batch copies it, then waits for more: a copy held part-way
    at a known point, for as long as the test likes.
    """
    batches: list[CopyWork] = []
    rules = IncludeRules.build(["x/**"], [])
    walk_in_batches(repo, CopyPlan(trees=["node_modules"]), rules, batches.append)
    assert len(batches) > 1, "the tree makes several batches"
    return batches[0], sum(batch.items for batch in batches)


async def _until(condition: Callable[[], bool], timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def _job_lines(repo: Path, dest: Path, work: CopyWork) -> str:
    header = {"repo": str(repo), "dest": str(dest), "threads": 1}
    lines = [header, {"batch": work.to_json()}, {"end": True}]
    return "".join(json.dumps(line) + "\n" for line in lines)


def _copied(dest: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(dest))


def _live_children() -> list[psutil.Process]:
    """This test process's copy workers still running (other suites' session-wide
    helpers, such as an OpenCode server, are children too, and none of this one's)."""
    live = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.NoSuchProcess):  # reaped meanwhile
            if child.status() != psutil.STATUS_ZOMBIE and WORKER_MODULE in child.cmdline():
                live.append(child)
    return live


async def test_trees_copy_in_a_worker_and_single_files_on_a_thread(
    repo: Path, tmp_path: Path
) -> None:
    (repo / ".gitignore").write_text("node_modules/\n.env\n")
    (repo / ".env").write_text("A=1\n")
    _tree(repo, 50)
    tree_copy = await copy_included(repo, tmp_path / "a", ["node_modules/**"], [])
    assert tree_copy.worker == "process" and tree_copy.files == 50
    assert tree_copy.metadata()["worker"] == "process"
    file_copy = await copy_included(repo, tmp_path / "b", ["./.env"], [])
    assert file_copy.worker == "thread" and file_copy.files == 1
    in_thread = await copy_included(repo, tmp_path / "c", ["node_modules/**"], [], in_worker=False)
    assert in_thread.worker == "thread" and in_thread.files == 50
    assert not _live_children()


async def test_cancelling_stops_the_worker_before_returning(repo: Path, tmp_path: Path) -> None:
    _tree(repo, 3000)
    first, files = _first_of_batches(repo)
    dest = tmp_path / "dest"
    worker = await CopyWorker.start()
    progress = Progress()
    batches: asyncio.Queue[CopyWork | None] = asyncio.Queue()
    batches.put_nowait(first)  # and no more for now: the walk is still going, as it were
    copying = asyncio.ensure_future(worker.copy(repo, dest, batches, progress, threads=1))
    await _until(lambda: progress.snapshot()[:2] == (first.items, first.items))
    assert not copying.done(), "the copy waits for the rest of the walk"
    copying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await copying
    # The worker, the only process writing into dest, has ended: nothing can land later.
    assert worker.ended
    assert not _live_children()
    assert _copied(dest) == first.items < files, "the files in hand landed, no more"


async def test_directories_that_cannot_be_made_are_a_step_error(repo: Path, tmp_path: Path) -> None:
    _tree(repo, 100)
    dest = tmp_path / "dest"
    (dest / "node_modules").mkdir(parents=True)
    (dest / "node_modules" / "p7").write_text("a file where a directory must go")
    worker = await CopyWorker.start()
    with pytest.raises(StepError, match="cannot copy directory node_modules/p7") as raised:
        await worker.copy(repo, dest, _queued(repo), Progress(), threads=None)
    assert raised.value.hint
    assert _copied(dest) == 1, "nothing copied"
    assert not _live_children()


async def test_a_worker_that_dies_is_a_step_error_naming_it(repo: Path, tmp_path: Path) -> None:
    _tree(repo, 10)
    worker = await CopyWorker.start()
    os.killpg(worker._process.pid, signal.SIGKILL)
    with pytest.raises(StepError, match=rf"{WORKER_MODULE}\) ended with exit code -9"):
        await worker.copy(repo, tmp_path, _queued(repo), Progress(), threads=None)
    await worker.close()


def test_worker_stops_when_its_input_closes(repo: Path, tmp_path: Path) -> None:
    """A server that dies closes the worker's stdin: the copy must not run on."""
    _tree(repo, 3000)
    first, files = _first_of_batches(repo)
    dest = tmp_path / "dest"
    header = {"repo": str(repo), "dest": str(dest), "threads": 1}
    with subprocess.Popen(
        [sys.executable, "-m", WORKER_MODULE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as worker:
        assert worker.stdin is not None and worker.stdout is not None
        watchdog = threading.Timer(60, worker.kill)  # bounds the reads below
        watchdog.start()
        try:
            worker.stdin.write(json.dumps(header) + "\n")
            worker.stdin.write(json.dumps({"batch": first.to_json()}) + "\n")
            worker.stdin.flush()
            # The first batch is copied and the worker waits for more of the walk…
            wanted = [first.items, first.items]
            for line in worker.stdout:
                if json.loads(line).get("progress", [])[:2] == wanted:
                    break
            else:
                pytest.fail("the worker ended before it reported the first batch copied")
            worker.stdin.close()  # …when the server goes away, without an end of the walk
            messages = [json.loads(line) for line in worker.stdout]
            assert worker.wait() == 0
        finally:
            watchdog.cancel()
    assert messages[-1] == {"stopped": True}, "stopped, not a finished copy"
    assert _copied(dest) == first.items < files


def test_worker_lists_the_files_it_could_not_copy(repo: Path, tmp_path: Path) -> None:
    _tree(repo, 3)
    work = _work(repo)
    (repo / "node_modules" / "p0" / "f0.js").chmod(0)  # unreadable (unless root)
    if os.geteuid() == 0:
        work.files.append("node_modules/p0")  # a directory where a file is expected
    job = _job_lines(repo, tmp_path, work)
    with subprocess.Popen(
        [sys.executable, "-m", WORKER_MODULE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as worker:
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(job)
        worker.stdin.flush()  # and kept open: the copy is still wanted
        outcome: dict[str, Any] = {"progress": []}
        while "progress" in outcome:
            outcome = json.loads(worker.stdout.readline())
        worker.stdin.close()
    assert worker.returncode == 0
    totals = CopyTotals.from_json(outcome["result"])
    assert len(totals.failed) == 1 and totals.files + 1 == len(work.files)
    with pytest.raises(StepError, match=r"could not copy 1 included file\(s\)") as raised:
        totals.raise_for_failures()
    assert raised.value.hint


async def test_pool_hands_out_the_worker_it_started_ahead(repo: Path, tmp_path: Path) -> None:
    _tree(repo, 20)
    pool = CopyWorkerPool()
    first = await pool.take()
    await first.close()
    assert pool._spare is not None, "the next worker is starting already"
    spare = await pool._spare
    second = await pool.take()
    assert second is spare
    totals = await second.copy(repo, tmp_path / "d", _queued(repo), Progress(), threads=None)
    assert totals.files == 20
    await pool.close()
    assert not _live_children(), "closing the pool ends its spare"


async def test_pool_replaces_a_spare_that_died(repo: Path, tmp_path: Path) -> None:
    _tree(repo, 5)
    pool = CopyWorkerPool()
    await (await pool.take()).close()
    assert pool._spare is not None
    spare = await pool._spare
    os.killpg(spare._process.pid, signal.SIGKILL)
    await spare._process.wait()
    worker = await pool.take()
    assert worker is not spare and not worker.ended
    totals = await worker.copy(repo, tmp_path / "d", _queued(repo), Progress(), threads=None)
    assert totals.files == 5
    await spare.close()
    await pool.close()
    assert not _live_children()


async def test_pool_taken_twice_at_once_keeps_one_spare(repo: Path) -> None:
    pool = CopyWorkerPool()
    first, second = await asyncio.gather(pool.take(), pool.take())
    await asyncio.gather(first.close(), second.close())
    await pool.close()
    assert not _live_children(), "no spare left behind"


def test_worker_ends_on_input_it_cannot_read(repo: Path, tmp_path: Path) -> None:
    header = {"repo": str(repo), "dest": str(tmp_path / "d"), "threads": 1}
    with subprocess.Popen(
        [sys.executable, "-m", WORKER_MODULE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as worker:
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(json.dumps(header) + "\nnot json\n")
        worker.stdin.flush()  # and kept open
        assert worker.wait(timeout=60) == 0
        assert json.loads(worker.stdout.read().splitlines()[-1]) == {"stopped": True}
        worker.stdin.close()


async def test_file_system_errors_in_the_worker_name_the_path(repo: Path, tmp_path: Path) -> None:
    (repo / ".gitignore").write_text("node_modules/\n")
    _tree(repo / "apps" / "web", 5)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "apps").write_text("a file where a directory must go")
    with pytest.raises(StepError, match=r"include-copy failed: .*apps") as raised:
        await copy_included(repo, dest, ["apps/web/node_modules/**"], [])
    assert "retry" in (raised.value.hint or "")
    assert not _live_children()


def test_totals_travel_with_capped_lists_and_exact_counts() -> None:
    totals = CopyTotals(
        missing=[f"m{i}" for i in range(30_000)],
        missing_count=30_000,
        failed=[f"f{i}: gone" for i in range(7)],
        failed_count=7,
    )
    data = json.loads(json.dumps(totals.to_json()))
    assert len(json.dumps(data)) < 10_000
    again = CopyTotals.from_json(data)
    assert (len(again.missing), again.missing_count, again.failed_count) == (100, 30_000, 7)
    with pytest.raises(StepError, match=r"could not copy 7 included file\(s\).*\(and 2 more\)"):
        again.raise_for_failures()


async def test_waiting_through_cancel_outlasts_repeated_cancels() -> None:
    release, finished = asyncio.Event(), asyncio.Event()

    async def held_stop() -> None:
        await release.wait()
        finished.set()

    stopping = asyncio.ensure_future(held_stop())
    waiter = asyncio.ensure_future(wait_through_cancel(stopping))
    await asyncio.sleep(0)  # the waiter starts waiting
    for _ in range(3):
        waiter.cancel()
        await asyncio.sleep(0)  # one turn of the loop: the waiter takes the cancel
        assert not waiter.done(), "a cancel does not end the wait while the stop runs"
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert finished.is_set(), "the waiter let go only once the stop had finished"
    assert not stopping.cancelled(), "the stop itself was never cancelled"
