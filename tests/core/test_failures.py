"""setup_error: what a cell's lastSetupError says about a failure, and how it is stored."""

from __future__ import annotations

import asyncio

from hive.core.errors import ConflictError, StepError
from hive.core.failure_kind import FailureKind
from hive.core.failures import RollbackStep, SetupError, setup_error

AT = "2026-01-01T00:00:00.000Z"


def test_step_error_keeps_command_exit_code_and_output() -> None:
    exc = StepError(
        "setup command failed",
        hint="fix the command and retry",
        command="npm install",
        exit_code=2,
        output_tail="npm ERR! oops",
    )
    failure = setup_error(exc, step="run_setup", run_id="run1", attempt=3, at=AT)
    assert failure == SetupError(
        step="run_setup",
        message="setup command failed",
        run_id="run1",
        attempt=3,
        at=AT,
        hint="fix the command and retry",
        command="npm install",
        exit_code=2,
        output_tail="npm ERR! oops",
        kind=FailureKind.SETUP_COMMAND,
    )


def test_stored_form_round_trips_and_uses_the_api_keys() -> None:
    failure = setup_error(
        StepError("boom", command="make", exit_code=1, output_tail="x"),
        step="run_setup:1",
        run_id="r",
        attempt=2,
        at=AT,
    )
    failure = failure.with_rollback((RollbackStep("stop_services", "ok"),))
    stored = failure.to_json()
    assert stored["runId"] == "r" and stored["exitCode"] == 1 and stored["outputTail"] == "x"
    assert stored["kind"] == "setup_command" and stored["occurredAt"] == stored["at"] == AT
    assert stored["rollback"] == [{"step": "stop_services", "status": "ok"}]
    assert SetupError.from_json(stored) == failure


def test_rows_written_before_the_typed_model_still_read() -> None:
    old = {"step": "run_setup", "message": "m", "runId": "r", "attempt": 1, "at": AT}
    failure = SetupError.from_json(old)
    assert failure.message == "m" and failure.command is None
    assert "hive retry" in failure.hint
    assert failure.kind == FailureKind.SETUP_COMMAND and failure.rollback == ()


def test_step_error_without_hint_gets_the_default_next_step() -> None:
    failure = setup_error(StepError("timed out", command="sleep 9"), step="s", run_id="r",
                          attempt=1, at=AT)  # fmt: skip
    assert "hive retry" in failure.hint and "delete" in failure.hint
    assert failure.command == "sleep 9" and failure.exit_code is None


def test_other_hive_error_keeps_its_hint_and_has_no_command() -> None:
    failure = setup_error(
        ConflictError("busy", hint="wait"), step=None, run_id="r", attempt=1, at=AT
    )
    assert (failure.step, failure.message, failure.hint) == (None, "busy", "wait")
    assert failure.command is None


def test_unexpected_exception_points_to_server_log() -> None:
    failure = setup_error(KeyError("x"), step="create_worktree", run_id="r", attempt=1, at=AT)
    assert failure.message == "KeyError: 'x'"
    assert "server log" in failure.hint


def test_cancelled() -> None:
    failure = setup_error(asyncio.CancelledError(), step="run_setup", run_id="r", attempt=1, at=AT)
    assert failure.message == "cancelled"
