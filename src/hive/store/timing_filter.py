"""Which timing rows a query means, as WHERE terms shared by rows and statistics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement

from hive.store.tables import cell_timing_events as t


@dataclass(frozen=True)
class TimingFilter:
    cell_id: str | None = None
    template_id: str | None = None
    workflow: str | None = None
    workspace_id: str | None = None
    step: str | None = None
    """One step by its full name (`create_worktree:include_copy` for a sub-step)."""
    status: str | None = None
    run_ids: tuple[str, ...] | None = None
    since: str | None = None
    """Rows recorded at or after this instant (stored form, see core/time_bounds.py)."""
    until: str | None = None
    """Rows recorded before this instant."""
    before_id: int | None = None
    """Rows older than this id: where a page cursor points."""
    limit: int | None = None


def conditions(where: TimingFilter) -> list[ColumnElement[bool]]:
    """The filter as WHERE terms; bounds compare stored ISO text, which sorts by time."""
    terms: list[ColumnElement[bool]] = [
        column == value
        for column, value in (
            (t.c.cell_id, where.cell_id),
            (t.c.template_id, where.template_id),
            (t.c.workflow, where.workflow),
            (t.c.workspace_id, where.workspace_id),
            (t.c.step, where.step),
            (t.c.status, where.status),
        )
        if value is not None
    ]
    if where.run_ids is not None:
        terms.append(t.c.run_id.in_(where.run_ids))
    if where.since is not None:
        terms.append(t.c.created_at >= where.since)
    if where.until is not None:
        terms.append(t.c.created_at < where.until)
    if where.before_id is not None:
        terms.append(t.c.id < where.before_id)
    return terms
