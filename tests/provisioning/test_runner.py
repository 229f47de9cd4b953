"""error_payload: what a cell's lastSetupError says about a failure."""

from __future__ import annotations

import asyncio

from hive.core.errors import ConflictError, StepError
from hive.provisioning.runner import error_payload


def test_step_error_payload() -> None:
    exc = StepError(
        "setup command failed",
        hint="fix the command and retry",
        command="npm install",
        exit_code=2,
        output_tail="npm ERR! oops",
    )
    payload = error_payload(exc, "run_setup", "run1", 3)
    assert payload.pop("at").endswith("Z")
    assert payload == {
        "step": "run_setup",
        "message": "setup command failed",
        "runId": "run1",
        "attempt": 3,
        "hint": "fix the command and retry",
        "command": "npm install",
        "exitCode": 2,
        "outputTail": "npm ERR! oops",
    }


def test_step_error_without_hint_gets_the_default_next_step() -> None:
    payload = error_payload(StepError("timed out", command="sleep 9"), "run_setup", "r", 1)
    assert "hive retry" in payload["hint"] and "delete" in payload["hint"]
    assert payload["command"] == "sleep 9"
    assert payload["exitCode"] is None
    assert payload["outputTail"] is None


def test_other_hive_error_keeps_its_hint() -> None:
    payload = error_payload(ConflictError("busy", hint="wait"), None, "r", 1)
    assert payload["step"] is None
    assert payload["message"] == "busy"
    assert payload["hint"] == "wait"
    assert "command" not in payload


def test_unexpected_exception_points_to_server_log() -> None:
    payload = error_payload(KeyError("x"), "create_worktree", "r", 1)
    assert payload["message"] == "KeyError: 'x'"
    assert "server log" in payload["hint"]
    assert "command" not in payload


def test_cancelled() -> None:
    payload = error_payload(asyncio.CancelledError(), "run_setup", "r", 1)
    assert payload["message"] == "cancelled"
