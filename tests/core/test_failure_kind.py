"""failure_kind: where a run failed, from its step or sub-step and its exception."""

from __future__ import annotations

import asyncio

import pytest

from hive.core.errors import ConfigError, HiveError, StepError
from hive.core.failure_kind import FailureKind, failure_kind

K = FailureKind


@pytest.mark.parametrize(
    ("step", "kind"),
    [
        ("create_worktree", K.WORKSPACE),
        ("create_worktree:git_add", K.WORKSPACE),
        ("create_worktree:base_commit", K.WORKSPACE),
        ("create_worktree:include_copy", K.INCLUDE_COPY),
        ("create_worktree:place_included", K.INCLUDE_COPY),
        ("allocate_ports", K.PORT),
        ("allocate_ports:cell_files", K.WORKSPACE),
        ("run_setup", K.SETUP_COMMAND),
        ("run_setup:3", K.SETUP_COMMAND),
        ("ensure_services", K.SERVICE_START),
        ("ensure_services:setup:api", K.SETUP_COMMAND),
        ("ensure_services:start:api", K.SERVICE_START),
        ("ensure_services:ready:api", K.SERVICE_READY),
        ("ensure_services:ready:start:odd", K.SERVICE_READY),
        ("mark_ready", K.INTERNAL),
        ("remove_worktree:branch", K.WORKSPACE),
        ("snapshot_work", K.WORKSPACE),
        ("remove_workspace", K.WORKSPACE),
        ("delete_branch", K.WORKSPACE),
        ("release_ports", K.PORT),
        ("delete_cell_record", K.INTERNAL),
        ("no_such_step", K.INTERNAL),
        (None, K.INTERNAL),
    ],
)
def test_the_step_names_the_kind(step: str | None, kind: FailureKind) -> None:
    assert failure_kind(step, StepError("failed")) == kind
    assert failure_kind(step, KeyError("a bug")) == kind, "a bug still failed somewhere"
    assert failure_kind(step) == kind, "a row stored before kinds: the step alone"


def _timed_out_step() -> StepError:
    try:
        try:
            raise TimeoutError
        except TimeoutError as exc:
            raise StepError("step 'run_setup' did not finish within 5s") from exc
    except StepError as error:
        return error


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (asyncio.CancelledError(), K.CANCELLED),
        (StepError("cancelled on request", kind=K.CANCELLED), K.CANCELLED),
        (StepError("the server stopped", kind=K.INTERRUPTED), K.INTERRUPTED),
        (ConfigError("template 'web' is no longer usable"), K.TEMPLATE_INVALID),
        (_timed_out_step(), K.TIMEOUT),
        (
            StepError("setup command 1 of 1 timed out after 5s: sleep 60", command="sleep 60"),
            K.TIMEOUT,
        ),
        (StepError("exit 1", command="make", exit_code=1), K.SETUP_COMMAND),
        (StepError("timed out, says the output", command="make", exit_code=2), K.SETUP_COMMAND),
        (HiveError("something else"), K.SETUP_COMMAND),
    ],
)
def test_the_exception_can_say_more_than_the_step(exc: BaseException, kind: FailureKind) -> None:
    assert failure_kind("run_setup:1", exc) == kind
