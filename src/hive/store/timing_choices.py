"""What the timing rows can be filtered by: the workspaces, templates, cells (deleted
ones too: their rows outlive them) and steps that occur in them.

Each list is read from an index rather than the rows themselves; a cell's name and
template come from its newest row only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from hive.core.status import HIDDEN
from hive.store.database import Database
from hive.store.tables import cell_timing_events as t
from hive.store.tables import cells, workspaces


@dataclass(frozen=True)
class ChosenWorkspace:
    id: str
    label: str | None
    """None for a workspace no longer registered."""


@dataclass(frozen=True)
class ChosenCell:
    id: str
    name: str
    workspace_id: str
    template_id: str
    deleted: bool
    """Gone (or being deleted): only its timing rows are left."""
    last_at: str
    """When its newest row was recorded."""


@dataclass(frozen=True)
class TimingChoices:
    workspaces: list[ChosenWorkspace]
    templates: list[str]
    cells: list[ChosenCell]
    """Newest activity first."""
    steps: list[str]


async def timing_choices(db: Database) -> TimingChoices:
    newest = select(func.max(t.c.id).label("id")).group_by(t.c.cell_id).subquery()
    cell_rows = await db.all(
        select(
            t.c.cell_id,
            t.c.cell_name,
            t.c.workspace_id,
            t.c.template_id,
            t.c.created_at,
            cells.c.status,
        )
        .join(newest, newest.c.id == t.c.id)
        .outerjoin(cells, cells.c.id == t.c.cell_id)
        .order_by(t.c.id.desc())
    )
    hidden = {str(status) for status in HIDDEN}
    chosen = [
        ChosenCell(
            id=row.cell_id,
            name=row.cell_name,
            workspace_id=row.workspace_id,
            template_id=row.template_id,
            deleted=row.status is None or row.status in hidden,
            last_at=row.created_at,
        )
        for row in cell_rows
    ]
    ids = sorted({cell.workspace_id for cell in chosen})
    labels = {
        row.id: row.label
        for row in await db.all(
            select(workspaces.c.id, workspaces.c.label).where(workspaces.c.id.in_(ids))
        )
    }
    templates = await db.all(select(t.c.template_id).distinct().order_by(t.c.template_id))
    steps = await db.all(select(t.c.step).distinct().order_by(t.c.step))
    return TimingChoices(
        workspaces=sorted(
            (ChosenWorkspace(id, labels.get(id)) for id in ids),
            key=lambda w: ((w.label or w.id).casefold(), w.id),
        ),
        templates=[row.template_id for row in templates],
        cells=chosen,
        steps=[row.step for row in steps],
    )
