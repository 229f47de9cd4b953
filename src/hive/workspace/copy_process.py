"""A `copy_worker` process, driven from the event loop.

`CopyWorker.start` spawns it early, so its interpreter starts while the server walks
the trees; `copy` hands it the walked work and follows its progress. The worker has its
own session (it can be stopped as a group) and reads its stdin for as long as the copy
is wanted, so a server that dies takes its copies with it. Cancelling asks the worker
to stop, waits for it (files in hand land first, so whoever cancelled can then remove
the target safely) and kills it only if it does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import hive
from hive.core.errors import StepError
from hive.services.process_tag import inherited_environ
from hive.workspace.tree_copy import CopyStoppedError, CopyTotals, Progress
from hive.workspace.tree_walk import CopyWork

WORKER_MODULE = "hive.workspace.copy_worker"
_STOP_WAIT_S = 10.0
_STDERR_KEPT = 2000
_LINE_LIMIT = 1 << 20


class CopyWorker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._stderr = asyncio.ensure_future(self._read_stderr())
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    async def start(cls) -> CopyWorker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",  # not the working directory first: a `hive` folder there must not win
            "-m",
            WORKER_MODULE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            env=_worker_environment(),
            limit=_LINE_LIMIT,
        )
        return cls(process)

    async def copy(
        self,
        repo: Path,
        dest: Path,
        batches: asyncio.Queue[CopyWork | None],
        progress: Progress,
        *,
        threads: int | None,
    ) -> CopyTotals:
        """Copy work from `repo` into `dest` as it arrives on `batches` (None ends it);
        `progress` follows the worker's counts.

        Cancelled, it stops the worker and waits for it before it lets go.
        """
        process = self._process
        header = {"repo": str(repo), "dest": str(dest), "threads": threads}
        sending = asyncio.ensure_future(self._send(header, batches))
        try:
            outcome = await self._follow(progress)
            await process.wait()
        except BaseException:
            await wait_through_cancel(asyncio.ensure_future(self.close()))
            raise
        finally:
            sending.cancel()  # a worker that failed early reads no more
            await asyncio.wait([sending])
        return _totals_from(outcome, process.returncode, await self._stderr)

    async def _send(self, header: dict[str, Any], batches: asyncio.Queue[CopyWork | None]) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        with contextlib.suppress(ConnectionError):  # the worker ended: its outcome says why
            stdin.write(json.dumps(header).encode() + b"\n")
            while (batch := await batches.get()) is not None:
                stdin.write(json.dumps({"batch": batch.to_json()}).encode() + b"\n")
                await stdin.drain()
            stdin.write(b'{"end": true}\n')
            await stdin.drain()

    async def send(self, message: dict[str, Any]) -> None:
        """One line of a job that is a conversation (a copy-on-write checkout's)."""
        stdin = self._process.stdin
        assert stdin is not None
        with contextlib.suppress(ConnectionError):  # it ended: `receive` says why
            stdin.write(json.dumps(message).encode() + b"\n")
            await stdin.drain()

    async def receive(self) -> dict[str, Any]:
        """The next answer that is not progress; `{}` once the worker has ended."""
        assert self._process.stdout is not None
        while line := await self._process.stdout.readline():
            try:
                message: dict[str, Any] = json.loads(line)
            except ValueError as exc:
                await self.close()
                raise StepError(
                    f"the copy worker ({WORKER_MODULE}) sent what Hive cannot read: {exc}",
                    hint="retry; if it fails again, report this message (it is a bug in Hive)",
                    output_tail=await self._stderr,
                ) from exc
            if "progress" not in message:
                return message
        return {}

    async def last_words(self) -> str:
        """Why it ended: its exit code and the last line it wrote to stderr."""
        await self.close()
        stderr = (await self._stderr).strip().splitlines()[-1:] or ["no output"]
        return f"exit code {self._process.returncode}: {stderr[0]}"

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def ended(self) -> bool:
        return self._process.returncode is not None

    async def close(self) -> None:
        """Stop the worker (unused, or mid-copy) and wait until it has ended; idempotent."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        process = self._process
        assert process.stdin is not None
        if process.returncode is None:
            with contextlib.suppress(OSError):  # it may have closed its end already
                process.stdin.write(b"stop\n")
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), _STOP_WAIT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        await asyncio.wait([self._stderr])

    async def _follow(self, progress: Progress) -> dict[str, Any]:
        assert self._process.stdout is not None
        outcome: dict[str, Any] = {}
        try:
            async for line in self._process.stdout:
                message = json.loads(line)
                if "progress" in message:
                    progress.set(*message["progress"])
                else:
                    outcome = message
        except (ValueError, TypeError) as exc:  # an overlong or garbled line
            await self.close()
            raise StepError(
                f"the include-copy worker ({WORKER_MODULE}) sent what Hive cannot read: {exc}",
                hint="retry; if it fails again, report this message (it is a bug in Hive)",
                output_tail=await self._stderr,
            ) from exc
        return outcome

    async def _read_stderr(self) -> str:
        assert self._process.stderr is not None
        tail = b""
        while chunk := await self._process.stderr.read(65536):
            tail = (tail + chunk)[-_STDERR_KEPT:]
        return tail.decode(errors="replace")


class CopyWorkerPool:
    """Keeps one copy worker started ahead, so the next copy finds it ready to go.

    Starting a worker is an interpreter start-up (tens of milliseconds) on the path of
    every create with a tree to copy; taken from here, that happened while nothing
    waited. The first copy starts its own and the pool's first spare.
    """

    def __init__(self) -> None:
        self._spare: asyncio.Future[CopyWorker] | None = None
        self._closed = False

    async def take(self) -> CopyWorker:
        spare, self._spare = self._spare, None
        worker = None
        if spare is not None:
            with contextlib.suppress(Exception):  # could not start: start one now
                worker = await spare
        if worker is not None and worker.ended:
            await worker.close()  # died while it waited: release its pipes
            worker = None
        if worker is None:
            worker = await CopyWorker.start()
        if not self._closed and self._spare is None:  # another take may have made one
            self._spare = asyncio.ensure_future(CopyWorker.start())
        return worker

    async def close(self) -> None:
        self._closed = True
        spare, self._spare = self._spare, None
        if spare is not None:
            with contextlib.suppress(Exception):
                await (await spare).close()


def _totals_from(outcome: dict[str, Any], returncode: int | None, stderr: str) -> CopyTotals:
    if "result" in outcome:
        return CopyTotals.from_json(outcome["result"])
    if "error" in outcome:
        raise StepError(outcome["error"]["message"], hint=outcome["error"]["hint"])
    if outcome.get("stopped"):
        raise CopyStoppedError("the include-copy was stopped before it finished")
    last = stderr.strip().splitlines()[-1:] or ["no output"]
    raise StepError(
        f"the include-copy worker ({WORKER_MODULE}) ended with exit code {returncode}: {last[0]}",
        hint="retry; if it fails again, report this message (it is a bug in Hive)",
        output_tail=stderr or None,
    )


async def wait_through_cancel(future: asyncio.Future[Any]) -> None:
    """Wait until `future` is done even if cancelled meanwhile (then re-raise that).

    For stops that must finish before the caller may go on: a second cancel (a
    delete, then a shutdown) must not let the caller remove files still being written.
    The future's own result or error is left for its owner.
    """
    cancelled = False
    while not future.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([future])
            continue
        cancelled = True
    if cancelled:
        raise asyncio.CancelledError


def _worker_environment() -> dict[str, str]:
    # The worker must import this very Hive, installed or not.
    source = str(Path(hive.__file__).resolve().parent.parent)
    env = inherited_environ()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    return env
