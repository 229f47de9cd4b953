"""The copy worker: `python -m hive.workspace.copy_worker`, one job per process.

A large copy is mostly system calls, but every one of them needs the interpreter lock
between calls; on the server's interpreter it waits each time a request is being
answered (measured: 17% busy elsewhere made the copy 18% slower). Here it has an
interpreter to itself.

Protocol, one JSON object per line. In: the job (`repo`, `dest`, `threads`), then the
walked work as it is found, `{"batch": work}` lines, then `{"end": true}`; input stays
open while the copy is wanted: a `stop` line or its end (the server went away) stops
the copy after the files in hand. Out: `{"progress": [done, total, bytes]}`
several times a second, then one of `{"result": totals}` (counts, and the first
missing and failed paths), `{"error": {message, hint}}` (a directory that could not be
made or would lead out of the target, a file system error) or `{"stopped": true}`.

Two more jobs, for a copy-on-write checkout (`cow_job`): `{"checkout": {repo, commit}}`
answers `{"plan": summary}`, `{"unavailable": {reason, files}}` or `{"error": {message,
kind}}`, then waits for `{"fill": {dest}}` (anything else ends it) and answers
`{"result": report}`, `{"error": {message}}` or `{"stopped": true}`; `{"share": {source,
dest, files}}`, sent by such a worker to a helper, clones those files and answers
`{"result": cloned}`. Input ending, or a `stop` line, stops either after the file in
hand.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import resource
import select
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from hive.core.errors import StepError
from hive.workspace.tracked_clone import HELPER_ARGUMENT, Vouched, clone_tracked
from hive.workspace.tree_copy import CopyStoppedError, Progress, TreeCopier
from hive.workspace.tree_walk import CopyWork

PROGRESS_EVERY_S = 0.2


_CHECKOUT_MODULE = "hive.workspace.cow_job"
_IDLE_BEFORE_PRELOAD_S = 0.2


def main() -> int:
    if HELPER_ARGUMENT not in sys.argv[1:] and not _job_waiting(_IDLE_BEFORE_PRELOAD_S):
        # A checkout's modules (git, dulwich: ~150 ms to import) load while this worker
        # waits as the pool's spare; a worker started for a job at once goes ahead
        # without competing with that import for the interpreter.
        threading.Thread(
            target=importlib.import_module, args=(_CHECKOUT_MODULE,), daemon=True
        ).start()
    first = sys.stdin.readline()
    if first.strip() in ("", "stop"):
        return 0  # started ahead of time and not needed after all
    job = json.loads(first)
    if "checkout" in job:
        code = _checkout(job["checkout"])
        # Its answer is sent and its helper has ended; the server waits for this exit,
        # and tearing down the plan's objects would cost it tens of milliseconds.
        sys.stdout.flush()
        os._exit(code)
    if "share" in job:
        return _share(job["share"])
    copier = TreeCopier(Path(job["repo"]), Path(job["dest"]), threads=job.get("threads"))
    out = _Output(sys.stdout, copier.stop)
    batches: queue.SimpleQueue[CopyWork | None] = queue.SimpleQueue()
    reader = threading.Thread(
        target=_read_input, args=(sys.stdin, batches, copier.stop), daemon=True
    )
    reader.start()
    finished = threading.Event()
    reporter = threading.Thread(
        target=_report_progress, args=(copier.progress, out, finished), daemon=True
    )
    reporter.start()
    try:
        totals = copier.run_batches(iter(batches.get, None))
    except CopyStoppedError:
        outcome: dict[str, Any] = {"stopped": True}
    except StepError as exc:
        outcome = {"error": {"message": exc.message, "hint": exc.hint}}
    except OSError as exc:  # a directory that cannot be made, a full disk…
        where = f" ({exc.filename})" if exc.filename else ""
        outcome = {
            "error": {
                "message": f"include-copy failed: {exc.strerror or exc}{where}",
                "hint": "check that path's permissions and the disk's free space, then retry",
            }
        }
    else:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        totals.worker_cpu_ms = round((usage.ru_utime + usage.ru_stime) * 1000, 3)
        outcome = {"result": totals.to_json()}
    finished.set()
    reporter.join()
    out.send({"progress": list(copier.progress.snapshot())})
    out.send(outcome)
    return 0


def _job_waiting(timeout_s: float) -> bool:
    """Whether input arrives within `timeout_s` (a worker started for a job at once)."""
    try:
        ready, _, _ = select.select([sys.stdin], [], [], timeout_s)
    except (OSError, ValueError):
        return True
    return bool(ready)


def _checkout(job: dict[str, Any]) -> int:
    # Imported here: git, dulwich and the plan are this job's alone, and every other
    # worker (a clone helper above all) starts faster without them.
    from hive.workspace import cow_job
    from hive.workspace.git import GitError
    from hive.workspace.git_index import UnreadableIndexError

    out = _Output(sys.stdout, threading.Event())
    helper: cow_job.CloneHelper | None = None

    def start_helper(entries: int) -> None:
        nonlocal helper
        if entries >= cow_job.HELPER_FROM_FILES and (os.cpu_count() or 1) > 1:
            # Without one (it could not start), this process clones all the files.
            with contextlib.suppress(OSError):
                helper = cow_job.CloneHelper()

    try:
        try:
            planned = cow_job.plan(Path(job["repo"]), job["commit"], on_index=start_helper)
        except cow_job.NotForCow as exc:
            out.send({"unavailable": {"reason": exc.reason, "files": exc.files}})
            return 0
        except UnreadableIndexError as exc:
            out.send({"error": {"message": str(exc), "kind": "unreadable-index"}})
            return 0
        except (GitError, OSError) as exc:
            out.send({"error": {"message": str(exc), "kind": "unreadable"}})
            return 0
        out.send({"plan": planned.summary()})
        line = sys.stdin.readline()
        order = json.loads(line) if line.strip() not in ("", "stop") else {}
        if "fill" not in order:
            return 0  # not wanted after all (git checks it out, or the create was stopped)
        stop = threading.Event()
        threading.Thread(target=_watch_input, args=(sys.stdin, stop), daemon=True).start()
        try:
            report = cow_job.fill(planned, Path(order["fill"]["dest"]), stop, helper)
        except CopyStoppedError:
            out.send({"stopped": True})
        except Exception as exc:  # sent on: the server falls back to git
            out.send({"error": {"message": str(exc) or type(exc).__name__}})
        else:
            out.send({"result": asdict(report)})
        return 0
    finally:
        if helper is not None:
            helper.close()


def _share(job: dict[str, Any]) -> int:
    out = _Output(sys.stdout, threading.Event())
    stop = threading.Event()
    threading.Thread(target=_watch_input, args=(sys.stdin, stop), daemon=True).start()
    files = [Vouched.from_json(item) for item in job["files"]]
    try:
        cloned = clone_tracked(job["source"], job["dest"], files, stop)
    except CopyStoppedError:
        out.send({"stopped": True})
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        out.send({"error": {"message": f"{exc.strerror or exc}{where}"}})
    else:
        out.send({"result": cloned.to_json()})
    return 0


def _watch_input(stream: TextIO, stop: threading.Event) -> None:
    """Stop when input ends or says `stop` (the job is not wanted any more)."""
    try:
        for line in stream:
            if line.strip() == "stop":
                break
    finally:
        stop.set()


def _read_input(
    stream: TextIO, batches: queue.SimpleQueue[CopyWork | None], stop: threading.Event
) -> None:
    try:
        for line in stream:
            if line.strip() == "stop":
                break
            message = json.loads(line)
            if "batch" in message:
                batches.put(CopyWork.from_json(message["batch"]))
            elif message.get("end"):
                batches.put(None)
    finally:  # asked to stop, input closed (nobody waits for this copy) or unreadable
        stop.set()
        batches.put(None)


class _Output:
    """Whole lines only, from whichever thread; a reader gone away stops the copy."""

    def __init__(self, stream: TextIO, stop: threading.Event) -> None:
        self._stream = stream
        self._stop = stop
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, separators=(",", ":")) + "\n"
        with self._lock:
            if self._stream.closed:  # closed below: the reader went away
                return
            try:
                self._stream.write(line)
                self._stream.flush()
            except BrokenPipeError:
                self._stop.set()  # nobody reads: nobody wants this copy any more
                with contextlib.suppress(OSError):
                    self._stream.close()


def _report_progress(progress: Progress, out: _Output, finished: threading.Event) -> None:
    last = None
    while not finished.wait(PROGRESS_EVERY_S):
        current = progress.snapshot()
        if current != last:
            out.send({"progress": list(current)})
            last = current


if __name__ == "__main__":
    sys.exit(main())
