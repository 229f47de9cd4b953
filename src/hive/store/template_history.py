"""What templates' estimates are made from: per template of a workspace, the totals of
its recent create runs that reached ready, and its recent cells' footprints (kept
after the cells are deleted). Two statements per workspace, whatever its templates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, func, select

from hive.core.estimates import Footprint, RunTotal
from hive.core.steps import Step, Workflow
from hive.store.database import Database
from hive.store.tables import cell_footprints as f
from hive.store.tables import cell_timing_events as t


class TemplateHistoryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def runs(
        self, workspace_id: str, template_ids: Collection[str], per_template: int
    ) -> dict[str, list[RunTotal]]:
        """The last `per_template` create runs of each template that reached ready; a
        run's total is the sum of its top-level steps (sub-steps are inside them)."""
        if not template_ids:
            return {}
        rows = await self._db.all(_runs(workspace_id, template_ids, per_template))
        found: dict[str, list[RunTotal]] = defaultdict(list)
        for row in rows:
            found[row.template_id].append(RunTotal(row.cell_id, row.total_ms, row.at))
        return dict(found)

    async def footprints(self, workspace_id: str, per_template: int) -> dict[str, list[Footprint]]:
        """The footprints of each template's last `per_template` cells (by last write)."""
        ranked = (
            select(
                f,
                func.row_number()
                .over(partition_by=f.c.template_id, order_by=f.c.updated_at.desc())
                .label("rn"),
            )
            .where(f.c.workspace_id == workspace_id)
            .subquery()
        )
        rows = await self._db.all(select(ranked).where(ranked.c.rn <= per_template))
        found: dict[str, list[Footprint]] = defaultdict(list)
        for row in rows:
            found[row.template_id].append(
                Footprint(
                    cell_id=row.cell_id,
                    at=row.updated_at,
                    peak_rss_bytes=row.peak_rss_bytes,
                    cpu_sum=row.cpu_sum or 0.0,
                    cpu_samples=row.cpu_samples or 0,
                    disk_added_bytes=row.disk_added_bytes,
                )
            )
        return dict(found)


def _runs(workspace_id: str, template_ids: Collection[str], per_template: int) -> Any:
    # The runs' last rows, found through (template_id, step); then each run's rows
    # through (cell_id, id).
    ready = (
        select(
            t.c.template_id,
            t.c.cell_id,
            t.c.run_id,
            t.c.created_at,
            func.row_number()
            .over(partition_by=t.c.template_id, order_by=t.c.id.desc())
            .label("rn"),
        )
        .where(
            t.c.template_id.in_(list(template_ids)),
            t.c.step == str(Step.MARK_READY),
            t.c.status == "ok",
            t.c.workflow == str(Workflow.CREATE),
            t.c.workspace_id == workspace_id,
        )
        .subquery()
    )
    recent = select(ready).where(ready.c.rn <= per_template).subquery()
    on_run = and_(t.c.cell_id == recent.c.cell_id, t.c.run_id == recent.c.run_id)
    return (
        select(
            recent.c.template_id,
            recent.c.cell_id,
            recent.c.created_at.label("at"),
            func.sum(t.c.duration_ms).label("total_ms"),
        )
        .select_from(recent.join(t, on_run))
        .where(t.c.step.not_like("%:%"))
        .group_by(recent.c.template_id, recent.c.cell_id, recent.c.run_id, recent.c.created_at)
    )
