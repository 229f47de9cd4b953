"""A cell's last failure (`lastSetupError`): what failed, where, and what to do.

Built by the workflow engine from the exception that stopped a run, stored as JSON on
the cell, serialised by the API. Plain data: no I/O, no HTTP.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from hive.core.errors import HiveError, StepError

NEXT_STEP = "retry the cell (`hive retry ID`, POST /api/cells/ID/retry) or delete it"


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

    def to_json(self) -> dict[str, Any]:
        """As stored on the cell row (camelCase, the API's own keys)."""
        return {_JSON_KEYS.get(name, name): value for name, value in asdict(self).items()}

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
        )


_JSON_KEYS = {
    "run_id": "runId",
    "exit_code": "exitCode",
    "output_tail": "outputTail",
}


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, HiveError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def setup_error(
    exc: BaseException, *, step: str | None, run_id: str, attempt: int, at: str
) -> SetupError:
    """The failure record of `exc`, raised by `step` of a run."""
    if isinstance(exc, HiveError):
        hint = exc.hint or f"fix the cause above, then: {NEXT_STEP}"
    else:
        hint = (
            f"an unexpected error inside Hive; the server log has the traceback. Then: {NEXT_STEP}"
        )
    failure = SetupError(
        step=step, message=describe_error(exc), run_id=run_id, attempt=attempt, at=at, hint=hint
    )
    if isinstance(exc, StepError):
        return SetupError(
            **{
                **asdict(failure),
                "command": exc.command,
                "exit_code": exc.exit_code,
                "output_tail": exc.output_tail,
            }
        )
    return failure
