"""Workflow and step names: the vocabulary of timings, events and checkpoints."""

from __future__ import annotations

from enum import StrEnum


class Workflow(StrEnum):
    CREATE = "create"
    RETRY = "retry"
    DELETE = "delete"
    SERVICE = "service"
    """A start, stop or restart of one service, asked for by a user."""


class Step(StrEnum):
    CREATE_REQUEST_RECEIVED = "create_request_received"
    CREATE_CELL_RECORD = "create_cell_record"
    CREATE_WORKTREE = "create_worktree"
    ALLOCATE_PORTS = "allocate_ports"
    RUN_SETUP = "run_setup"
    ENSURE_SERVICES = "ensure_services"
    MARK_READY = "mark_ready"
    STOP_SERVICES = "stop_services"
    RELEASE_PORTS = "release_ports"
    REMOVE_WORKSPACE = "remove_workspace"
    DELETE_CELL_RECORD = "delete_cell_record"


def substep(step: Step, part: str) -> str:
    """Name of a timed part of a step, e.g. ``create_worktree:git_add``."""
    return f"{step.value}:{part}"


#: Steps recorded by the API request itself, before the background run starts.
CREATE_REQUEST_STEPS: tuple[Step, ...] = (Step.CREATE_REQUEST_RECEIVED, Step.CREATE_CELL_RECORD)

#: Steps of the background create run, in order. A retry resumes from the failed one.
CREATE_STEPS: tuple[Step, ...] = (
    Step.CREATE_WORKTREE,
    Step.ALLOCATE_PORTS,
    Step.RUN_SETUP,
    Step.ENSURE_SERVICES,
    Step.MARK_READY,
)

#: Steps of a delete, in order; each is best-effort with a timeout except the last.
DELETE_STEPS: tuple[Step, ...] = (
    Step.STOP_SERVICES,
    Step.RELEASE_PORTS,
    Step.REMOVE_WORKSPACE,
    Step.DELETE_CELL_RECORD,
)
