"""The critical chain of a run: the steps that determined when it was done.

Like `systemd-analyze critical-chain`: start from what finished last and walk back,
each time to the span that finished latest no later than the current one started,
which is the one it waited for. Top-level steps run one after another, so each is on
the chain; a step whose sub-steps ran in parallel (services, include-copy beside
`git worktree add`) is followed by the sub-steps that decided its end: the service
that became ready last, the longer of two parts that ran side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from hive.core.timings import TimingRow, is_top_level

#: Start stamps have millisecond resolution, so a successor can seem to start up to a
#: millisecond before its predecessor ended.
TOLERANCE_MS = 1.0

_RUN_WORKFLOWS = frozenset({"create", "retry"})


@dataclass(frozen=True)
class Span:
    step: str
    start_ms: float
    """Offset from the run's first stamp."""
    duration_ms: float
    status: str

    @property
    def end_ms(self) -> float:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True)
class ChainLink:
    step: str
    offset_ms: float
    duration_ms: float
    status: str
    depth: int
    """0 for a step, 1 for one of its sub-steps."""


@dataclass(frozen=True)
class Chain:
    run_id: str | None
    workflow: str | None
    attempt: int | None
    status: str | None
    """"error" when a top-level step of the run failed, else "ok"."""
    total_ms: float
    """From the run's first start to the end of its last step."""
    links: tuple[ChainLink, ...]


def latest_run(rows: Sequence[TimingRow]) -> str | None:
    """The run id of the last create or retry row (rows come oldest first)."""
    return next((r.run_id for r in reversed(rows) if r.workflow in _RUN_WORKFLOWS), None)


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def blocking_path(spans: Sequence[Span], tolerance_ms: float = TOLERANCE_MS) -> list[Span]:
    """The spans the last one to finish waited for, earliest first."""
    if not spans:
        return []

    def latest(candidates: Iterable[Span]) -> Span:
        # Finished last wins; among equal ends (stamps are coarse) the longer one.
        return max(candidates, key=lambda s: (s.end_ms, s.duration_ms))

    current = latest(spans)
    path = [current]
    while True:
        before = [
            s
            for s in spans
            if s not in path
            and s.start_ms <= current.start_ms
            and s.end_ms <= current.start_ms + tolerance_ms
        ]
        if not before:
            return path[::-1]
        current = latest(before)
        path.append(current)


def critical_chain(rows: Sequence[TimingRow], tolerance_ms: float = TOLERANCE_MS) -> Chain:
    """The chain of the latest create/retry run among `rows` (a cell's rows, oldest first)."""
    run_id = latest_run(rows)
    run = [r for r in rows if r.run_id == run_id]
    if not run:
        return Chain(None, None, None, None, 0.0, ())
    origin = min(_stamp(r.started_at) for r in run)

    def span(row: TimingRow) -> Span:
        offset = (_stamp(row.started_at) - origin).total_seconds() * 1000
        return Span(row.step, round(offset, 3), row.duration_ms, row.status)

    steps = [span(r) for r in run if is_top_level(r.step)]
    links: list[ChainLink] = []
    for step in blocking_path(steps, tolerance_ms):
        links.append(ChainLink(step.step, step.start_ms, step.duration_ms, step.status, 0))
        parts = [span(r) for r in run if r.step.split(":", 1)[0] == step.step]
        for part in blocking_path([p for p in parts if p.step != step.step], tolerance_ms):
            links.append(ChainLink(part.step, part.start_ms, part.duration_ms, part.status, 1))
    every = [span(r) for r in run]
    total = max((s.end_ms for s in every), default=0.0)
    failed = any(r.status == "error" and is_top_level(r.step) for r in run)
    return Chain(
        run_id=run_id,
        workflow=run[0].workflow,
        attempt=run[0].attempt,
        status="error" if failed else "ok",
        total_ms=round(total, 3),
        links=tuple(links),
    )
