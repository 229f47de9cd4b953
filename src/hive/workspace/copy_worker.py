"""The include-copy worker: `python -m hive.workspace.copy_worker`, one copy per process.

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
"""

from __future__ import annotations

import contextlib
import json
import queue
import resource
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from hive.core.errors import StepError
from hive.workspace.tree_copy import CopyStoppedError, Progress, TreeCopier
from hive.workspace.tree_walk import CopyWork

PROGRESS_EVERY_S = 0.2


def main() -> int:
    first = sys.stdin.readline()
    if first.strip() in ("", "stop"):
        return 0  # started ahead of time and not needed after all
    job = json.loads(first)
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
