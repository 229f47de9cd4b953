"""ServiceLog and follow: real files, rotated under a real process that keeps appending."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from hive.services.logs import DEFAULT_MAX_BYTES, ServiceLog, ServiceLogs, follow
from hive.services.process_group import stop_process_group

# Writes "line N" every few milliseconds to its stdout (the log, opened O_APPEND).
APPENDER = """
import sys, time
n = 0
while True:
    sys.stdout.write(f"line {n}\\n")
    sys.stdout.flush()
    n += 1
    time.sleep(0.005)
"""


def write_run(log: ServiceLog, text: str) -> int:
    fd, start = log.open_for_process()
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    return start


def test_open_writes_a_header_and_returns_the_run_start(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "logs" / "web.log")
    start = write_run(log, "hello\n")
    content = log.path.read_bytes()
    assert content.startswith(b"[hive] started ")
    assert content[start:] == b"hello\n"
    second = write_run(log, "again\n")
    assert log.path.read_bytes()[second:] == b"again\n"
    assert b"hello\n" in log.path.read_bytes()[:second]


def test_rotation_at_max_bytes_keeps_at_most_keep_files(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "web.log", max_bytes=100, keep=2)
    for run in range(5):
        write_run(log, f"run {run}\n" + "x" * 150 + "\n")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["web.log", "web.log.1", "web.log.2"]
    assert "run 4" in log.path.read_text()
    assert "run 3" in log.rotated(1).read_text()
    assert "run 2" in log.rotated(2).read_text()


def test_no_rotation_below_max_bytes(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "web.log", max_bytes=1000)
    write_run(log, "one\n")
    write_run(log, "two\n")
    assert not log.rotate_if_large()
    assert [p.name for p in tmp_path.iterdir()] == ["web.log"]


def test_tail_reaches_into_the_previous_file(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "web.log", max_bytes=10, keep=2)
    log.path.write_text("".join(f"a{i}\n" for i in range(1, 11)))
    assert log.rotate_if_large()
    assert log.path.read_bytes() == b""
    with log.path.open("a") as handle:
        handle.write("b1\nb2\n")
    assert log.tail(1) == "b2"
    assert log.tail(4) == "a9\na10\nb1\nb2"
    assert log.tail(100).splitlines() == [f"a{i}" for i in range(1, 11)] + ["b1", "b2"]
    assert ServiceLog(tmp_path / "missing.log").tail(5) == ""


def test_tail_of_a_long_file(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "web.log")
    log.path.write_text("".join(f"{i:0>100}\n" for i in range(3000)))
    assert log.tail(2000).splitlines() == [f"{i:0>100}" for i in range(1000, 3000)]


async def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_copy_truncate_while_a_process_appends(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "web.log", max_bytes=2000, keep=2)
    fd, _ = log.open_for_process()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            APPENDER,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=fd,
            start_new_session=True,
        )
    finally:
        os.close(fd)
    try:
        await wait_for(lambda: log.path.stat().st_size > 2000)
        assert log.rotate_if_large()
        rotated = log.rotated(1).read_text()
        assert rotated.startswith("[hive] started ")
        assert "line 0\n" in rotated
        size_after = log.path.stat().st_size
        assert size_after < 2000
        await wait_for(lambda: log.path.stat().st_size > size_after + 100)
    finally:
        await stop_process_group(process.pid, grace=1, leader=process)
    content = log.path.read_bytes()
    assert b"\0" not in content  # the writer kept appending at the new end, no hole
    assert content.startswith(b"line ")
    assert b"line 0\n" not in content


async def test_follow_yields_new_lines_and_survives_truncate(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    path.write_bytes(b"old\n")
    lines = follow(path, start=path.stat().st_size, poll_s=0.02)
    try:
        async with asyncio.timeout(15):
            with path.open("ab", buffering=0) as handle:
                handle.write(b"new1\nne")
                assert await anext(lines) == "new1"
                handle.write(b"w2\r\n")
                assert await anext(lines) == "new2"
            with path.open("r+b", buffering=0) as handle:
                handle.truncate(0)
                handle.write(b"after\n")
            assert await anext(lines) == "after"
    finally:
        await lines.aclose()


async def test_follow_restarts_on_a_replaced_file(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "web.log", max_bytes=10)
    start = write_run(log, "first run, long enough to rotate\n")
    lines = follow(log.path, start=start, poll_s=0.02)
    try:
        async with asyncio.timeout(15):
            assert await anext(lines) == "first run, long enough to rotate"
            write_run(log, "second\n")  # renames web.log to web.log.1 first
            assert (await anext(lines)).startswith("[hive] started ")
            assert await anext(lines) == "second"
    finally:
        await lines.aclose()


async def test_service_logs_are_laid_out_by_cell_and_rotated_while_running(
    tmp_path: Path,
) -> None:
    logs = ServiceLogs(tmp_path / "logs", rotate_every_s=0.01)
    path = logs.path("cell1", "web")
    assert path == tmp_path / "logs" / "cell1" / "web.log"
    path.parent.mkdir(parents=True)
    path.write_text("x" * (DEFAULT_MAX_BYTES + 1) + "\nlast line\n")
    assert await logs.tail("cell1", "web", 1) == "last line"
    running = [("cell1", "web")]
    rotator = logs.keep_rotated(lambda: running)
    assert logs.keep_rotated(lambda: running) is rotator, "one rotator while it runs"
    # The copy exists from its first byte; the truncate comes after the whole copy.
    await wait_for(lambda: logs.log("cell1", "web").rotated(1).exists())
    await wait_for(lambda: path.stat().st_size == 0)
    assert "last line" in logs.log("cell1", "web").rotated(1).read_text()
    running.clear()  # nothing runs: the rotation ends by itself
    done, _ = await asyncio.wait([rotator], timeout=15)
    assert rotator in done, "the rotator went on with no service running"
    assert rotator.result() is None  # ended, neither cancelled nor failed
    await logs.close()


def test_a_rotated_copy_is_as_private_as_the_log(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "web.log", max_bytes=10, keep=2)
    log.path.write_text("API_TOKEN=printed-by-the-service\n" * 3)
    log.path.chmod(0o600)
    assert log.rotate_if_large()
    assert stat.S_IMODE(log.rotated(1).stat().st_mode) == 0o600
    assert "printed-by-the-service" in log.rotated(1).read_text()
