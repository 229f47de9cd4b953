"""Workflow and step names: the vocabulary of timings, events and checkpoints.

The order of a workflow's steps is not here: it lives once, in the workflow itself
(`provisioning/steps/`), and the run records follow from that.
"""

from __future__ import annotations

from enum import StrEnum


class Workflow(StrEnum):
    CREATE = "create"
    RETRY = "retry"
    DELETE = "delete"
    ARCHIVE = "archive"
    RESTORE = "restore"
    """An archived cell's create workflow run again from `allocate_ports`."""
    DISCARD = "discard"
    """A cancelled cell's worktree removed on request (`cancel?discard=1`); the cell stays."""


class Step(StrEnum):
    CREATE_REQUEST_RECEIVED = "create_request_received"
    CREATE_CELL_RECORD = "create_cell_record"
    CREATE_WORKTREE = "create_worktree"
    ALLOCATE_PORTS = "allocate_ports"
    RUN_SETUP = "run_setup"
    ENSURE_SERVICES = "ensure_services"
    ASSEMBLE_PROMPT = "assemble_prompt"
    ENSURE_AGENT_SESSION = "ensure_agent_session"
    MARK_READY = "mark_ready"
    # The delete workflow's steps. Runs recorded before it had them name
    # `remove_worktree` (`:worktree`, `:branch`): history keeps them as plain strings.
    CANCEL_PROVISIONING = "cancel_provisioning"
    CLOSE_AGENT_SESSION = "close_agent_session"
    STOP_SERVICES = "stop_services"
    RELEASE_PORTS = "release_ports"
    SNAPSHOT_WORK = "snapshot_work"
    REMOVE_WORKSPACE = "remove_workspace"
    DELETE_BRANCH = "delete_branch"
    DELETE_CELL_RECORD = "delete_cell_record"


def substep(step: Step, part: str) -> str:
    """Name of a timed part of a step, e.g. ``create_worktree:git_add``."""
    return f"{step.value}:{part}"
