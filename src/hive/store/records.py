"""Rows as typed, immutable records: what the store hands to the rest of Hive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hive.core.failures import SetupError
from hive.core.status import CellStatus


@dataclass(frozen=True)
class WorkspaceRecord:
    id: str
    path: Path
    label: str
    created_at: str


@dataclass(frozen=True)
class CellRecord:
    id: str
    workspace_id: str
    name: str
    description: str | None
    template_id: str
    status: CellStatus
    worktree_path: Path
    branch_name: str
    base_ref: str | None
    base_commit: str | None
    """Commit the branch starts from; resolved from HEAD by create_worktree if not given."""
    last_setup_error: SetupError | None
    completed_steps: tuple[str, ...]
    run_id: str | None
    attempt: int
    created_at: str
    updated_at: str
    progress: dict[str, Any] | None = None
    """Live progress of the running step (include-copy files done / total)."""
    resume_run_id: str | None = None
    """The run a restarted server last resumed on its own."""
    resume_streak: int = 0
    """Resumes in a row of `resume_run_id`'s line that a stop cut short again."""
    constraints: tuple[str, ...] = ()
    """What the agent must not do (`constraints` of the create request)."""
    success_criteria: tuple[str, ...] = ()
    """How the agent's work is judged (`successCriteria` of the create request)."""
    prompt: dict[str, Any] | None = None
    """The last assembled prompt's `{sources: [{path, bytes}], warnings, path}`."""
    agent: dict[str, Any] | None = None
    """The agent as it stands: `{type, sessionId, status, model, mode, attach, ...}`."""
    agent_request: dict[str, Any] | None = None
    """What the create request chose: `{providerId, modelId, startMode}` (any of them)."""
    options: dict[str, str] | None = None
    """The template options chosen at creation, defaults filled in; None for cells made
    before options existed (they run with the defaults)."""


@dataclass(frozen=True)
class TimingEvent:
    cell_id: str
    cell_name: str
    workspace_id: str
    template_id: str
    workflow: str
    run_id: str
    step: str
    status: str
    started_at: str
    duration_ms: float
    attempt: int
    error: str | None = None
    metadata: dict[str, Any] | None = None
    id: int | None = None
    created_at: str | None = None
