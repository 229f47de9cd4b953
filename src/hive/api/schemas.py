"""Request and response bodies. JSON keys are camelCase; Python names stay snake_case."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from hive.store.records import CellRecord, TimingEvent, WorkspaceRecord


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class _Request(_Body):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _unicode(value: object) -> object:
    try:
        if isinstance(value, str):
            value.encode()
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "unicode_text", "must be Unicode text, without lone surrogates (\\ud800-\\udfff)"
        ) from None
    return value


#: JSON can escape lone surrogates ("\ud800"), which are not text: the database could not
#: store them, a response could not carry them. Placed after a field's length limits,
#: so that those keep their own messages.
_UNICODE = BeforeValidator(_unicode)


class AddWorkspace(_Request):
    path: Annotated[str, Field(min_length=1), _UNICODE]
    label: Annotated[str, _UNICODE] | None = None


class CreateCell(_Request):
    workspace_id: Annotated[str, Field(min_length=1), _UNICODE]
    template_id: Annotated[str, Field(min_length=1), _UNICODE]
    name: Annotated[str, _UNICODE]
    description: Annotated[str, Field(max_length=20_000), _UNICODE] | None = None
    # Longer than PATH_MAX, it names no ref file; far longer, git could not even be started.
    base_ref: Annotated[str, Field(min_length=1, max_length=4096), _UNICODE] | None = None


class WorkspaceOut(_Body):
    id: str
    path: str
    label: str
    created_at: str

    @classmethod
    def of(cls, record: WorkspaceRecord) -> WorkspaceOut:
        return cls(
            id=record.id, path=str(record.path), label=record.label, created_at=record.created_at
        )


class WorkspaceList(_Body):
    workspaces: list[WorkspaceOut]


class CellOut(_Body):
    id: str
    name: str
    description: str | None
    status: str
    template_id: str
    workspace_id: str
    workspace_path: str
    """The cell's worktree (Hive's name for it)."""
    branch_name: str
    base_ref: str | None
    base_commit: str | None
    attempt: int
    run_id: str | None
    """The running (or last unfinished) workflow run; None once the cell settled."""
    completed_steps: list[str]
    last_setup_error: dict[str, Any] | None
    progress: dict[str, Any] | None
    """Live progress of the running step, e.g. include-copy files done / total."""
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, cell: CellRecord) -> CellOut:
        return cls(
            id=cell.id,
            name=cell.name,
            description=cell.description,
            status=str(cell.status),
            template_id=cell.template_id,
            workspace_id=cell.workspace_id,
            workspace_path=str(cell.worktree_path),
            branch_name=cell.branch_name,
            base_ref=cell.base_ref,
            base_commit=cell.base_commit,
            attempt=cell.attempt,
            run_id=cell.run_id,
            completed_steps=list(cell.completed_steps),
            last_setup_error=cell.last_setup_error,
            progress=cell.progress,
            created_at=cell.created_at,
            updated_at=cell.updated_at,
        )


class CellList(_Body):
    cells: list[CellOut]


class DeletedCell(_Body):
    id: str
    deleted: bool
    branch: dict[str, Any] | None
    warnings: list[str]


class TimingOut(_Body):
    id: int | None
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
    error: str | None
    metadata: dict[str, Any] | None
    created_at: str | None

    @classmethod
    def of(cls, event: TimingEvent) -> TimingOut:
        return cls.model_validate(event, from_attributes=True)


class Timings(_Body):
    steps: list[TimingOut]
    runs: list[dict[str, Any]]
