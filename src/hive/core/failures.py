"""A cell's last failure (`lastSetupError`): what failed, where, what was undone, and
what to do.

Built by the workflow engine from the exception that stopped a run, stored as JSON on
the cell, serialised by the API. Plain data: no I/O, no HTTP.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, replace
from typing import Any

from hive.core.errors import HiveError, StepError
from hive.core.failure_kind import FailureKind, failure_kind
from hive.core.hints import Evidence, known_cause

NEXT_STEP = "retry the cell (`hive retry ID`, POST /api/cells/ID/retry) or delete it"


@dataclass(frozen=True)
class RollbackStep:
    """One undo of a failed run's compensation and how it went."""

    step: str
    status: str
    """`ok`, `failed: <reason>` or `skipped: <reason>`."""


@dataclass(frozen=True)
class SetupError:
    step: str | None
    """The step (or sub-step) that failed."""
    message: str
    run_id: str
    attempt: int
    at: str
    """When it failed (ISO 8601)."""
    hint: str
    """What to do about it."""
    command: str | None = None
    exit_code: int | None = None
    output_tail: str | None = None
    kind: FailureKind = FailureKind.INTERNAL
    rollback: tuple[RollbackStep, ...] = ()
    """What the run's compensation undid; empty when it had nothing to undo (or did
    not run, as for a failed delete)."""

    @property
    def occurred_at(self) -> str:
        """The TypeScript Hive's name for `at`."""
        return self.at

    def to_json(self) -> dict[str, Any]:
        """As stored on the cell row (camelCase, the API's own keys)."""
        stored = {_JSON_KEYS.get(name, name): value for name, value in asdict(self).items()}
        rollback = [asdict(undo) for undo in self.rollback]
        return {**stored, "kind": str(self.kind), "rollback": rollback, "occurredAt": self.at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SetupError:
        def get(name: str) -> Any:
            return data.get(_JSON_KEYS.get(name, name))

        return cls(
            step=get("step"),
            message=get("message") or "unknown failure",
            run_id=get("run_id") or "",
            attempt=get("attempt") or 1,
            at=get("at") or "",
            hint=get("hint") or f"fix the cause above, then: {NEXT_STEP}",
            command=get("command"),
            exit_code=get("exit_code"),
            output_tail=get("output_tail"),
            # Rows stored before kinds existed: the step's own kind.
            kind=_stored_kind(get("kind"), get("step")),
            rollback=tuple(RollbackStep(str(r["step"]), str(r["status"]))
                           for r in get("rollback") or ()),
        )  # fmt: skip

    def with_rollback(self, rollback: tuple[RollbackStep, ...]) -> SetupError:
        return replace(self, rollback=rollback)


_JSON_KEYS = {
    "run_id": "runId",
    "exit_code": "exitCode",
    "output_tail": "outputTail",
}


def _stored_kind(value: str | None, step: str | None) -> FailureKind:
    known = {str(kind): kind for kind in FailureKind}
    return known.get(value or "") or failure_kind(step)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, HiveError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def setup_error(
    exc: BaseException,
    *,
    step: str | None,
    run_id: str,
    attempt: int,
    at: str,
    part: str | None = None,
) -> SetupError:
    """The failure record of `exc`, raised by `step` of a run (in its sub-step `part`,
    when one is known: it names the failure's kind more precisely)."""
    kind = failure_kind(part or step, exc)
    message = describe_error(exc)
    command, exit_code, tail = (
        (exc.command, exc.exit_code, exc.output_tail)
        if isinstance(exc, StepError)
        else (None, None, None)
    )
    return SetupError(
        step=step,
        message=message,
        run_id=run_id,
        attempt=attempt,
        at=at,
        hint=_hint(exc, Evidence(kind, message, command, exit_code, tail)),
        command=command,
        exit_code=exit_code,
        output_tail=tail,
        kind=kind,
    )


def _hint(exc: BaseException, evidence: Evidence) -> str:
    """A known cause first, then what the step itself advises; the pointer to a retry
    last, as every hint ends."""
    if isinstance(exc, HiveError):
        advice = exc.hint or f"fix the cause above, then: {NEXT_STEP}"
    else:
        advice = (
            f"an unexpected error inside Hive; the server log has the traceback. Then: {NEXT_STEP}"
        )
    if (cause := known_cause(evidence)) is None:
        return advice
    if "retry" not in advice:
        advice = f"{advice}; then: {NEXT_STEP}"
    return f"{cause}; {advice}"
