"""Service actions on a ready cell: list, start, stop, restart (same port), logs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hive.config.schema import ProcessService, Template
from hive.core.errors import ConflictError, HiveError, NotFoundError
from hive.core.status import CellStatus
from hive.provisioning.environment import CellEnvironments
from hive.provisioning.options import apply_options
from hive.provisioning.templates import TemplateResolver
from hive.services.plan import ServicePlan, StartPlan, service_url
from hive.services.process_records import ProcessRecords
from hive.services.supervisor import Supervisor
from hive.store.cells import CellStore
from hive.store.records import CellRecord
from hive.store.services import ServiceRecord, ServiceStore
from hive.store.workspaces import WorkspaceStore

NOT_STARTED = "not started"


@dataclass(frozen=True)
class ServiceView:
    """One service of a cell as the API shows it."""

    name: str
    status: str
    port: int | None
    url: str | None
    pid: int | None
    started_at: str | None
    exit_code: int | None
    restarts: int
    last_error: dict[str, Any] | None
    readiness: str | None
    """The check that decides it is ready (`tcp :20001`, `started, still alive after 1s`)."""
    ready_reason: str | None = None
    """What passed, for an answer to a start or restart."""


class ServiceControl:
    def __init__(
        self,
        *,
        cells: CellStore,
        workspaces: WorkspaceStore,
        services: ServiceStore,
        templates: TemplateResolver,
        environments: CellEnvironments,
        supervisor: Supervisor,
        records: ProcessRecords,
    ) -> None:
        self._cells = cells
        self._workspaces = workspaces
        self._services = services
        self._templates = templates
        self._environments = environments
        self._supervisor = supervisor
        self._records = records
        # One action at a time per service: two starts must not both run its setup.
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _lock(self, cell_id: str, name: str) -> asyncio.Lock:
        return self._locks.setdefault((cell_id, name), asyncio.Lock())

    async def _template(self, cell: CellRecord) -> Template | None:
        workspace = await self._workspaces.get(cell.workspace_id)
        return await self._templates.template(workspace.path, cell.template_id)

    async def _start_plan(self, cell: CellRecord, template: Template) -> StartPlan | None:
        workspace = await self._workspaces.get(cell.workspace_id)
        try:
            return (await self._environments.of(cell, workspace.path, template)).plan()
        except HiveError:
            return None  # the config changed meanwhile; its errors are on the template

    async def list(self, cell_id: str) -> list[ServiceView]:
        cell = await self._cells.get(cell_id)
        records = {r.name: r for r in await self._services.for_cell(cell.id)}
        template = await self._template(cell)
        plan = await self._start_plan(cell, template) if template else None
        # The plan has the services the cell's options leave on.
        names = list(plan.services) if plan else list(template.services) if template else []
        names += [name for name in records if name not in names]
        plans = plan.services if plan else {}
        return [_view(name, records.get(name), plans.get(name)) for name in names]

    async def _ready_cell(self, cell_id: str, name: str) -> tuple[CellRecord, Template]:
        """The cell, ready, and its template, which has a process service `name`."""
        cell = await self._cells.get(cell_id)
        if cell.status != CellStatus.READY:
            raise ConflictError(
                f"cell '{cell_id}' is {cell.status}; services can be managed once it is ready"
            )
        template = await self._template(cell)
        if template is None:
            raise ConflictError(
                f"template '{cell.template_id}' is no longer usable in the workspace config",
                hint="fix it in hive.config.json (GET /api/templates shows its errors)",
            )
        if not isinstance(template.services.get(name), ProcessService):
            known = ", ".join(sorted(template.services)) or "none"
            raise NotFoundError(
                f"template '{template.id}' has no process service '{name}'",
                hint=f"services: {known}",
            )
        applied, choices = apply_options(template, cell.options)
        if name not in applied.services:
            chosen = ", ".join(f"{k}={v}" for k, v in choices.chosen.items())
            raise ConflictError(
                f"service '{name}' is off in cell '{cell_id}': its options ({chosen}) "
                "do not turn it on",
                hint="make a cell with an option choice that lists the service",
            )
        return cell, template

    async def _plan(self, cell_id: str, name: str) -> tuple[CellRecord, ServicePlan]:
        """What starting the service takes: its plan, with a leased port if it needs one."""
        cell, template = await self._ready_cell(cell_id, name)
        workspace = await self._workspaces.get(cell.workspace_id)
        # Its lease may have been given back (stopped after a failure), or the config
        # gave a service a port since: take the same port again if it is still free.
        environment, leased = await self._environments.lease_ports(cell, workspace.path, template)
        if leased:
            await environment.write_files()
        return cell, environment.plan().services[name]

    async def start(self, cell_id: str, name: str) -> ServiceView:
        async with self._lock(cell_id, name):
            cell, plan = await self._plan(cell_id, name)
            handle = await self._supervisor.start(
                cell.id,
                cell.worktree_path,
                plan,
                # On record while they run: a server killed meanwhile stops them next start.
                track=self._records.trackers(cell.id, "service-setup"),
            )
            reason = await self._supervisor.wait_ready(handle)
        return await self._one(cell, plan, reason)

    async def stop(self, cell_id: str, name: str) -> ServiceView:
        async with self._lock(cell_id, name):
            cell, _ = await self._ready_cell(cell_id, name)
            await self._supervisor.stop(cell.id, name)
        return next(view for view in await self.list(cell.id) if view.name == name)

    async def restart(self, cell_id: str, name: str) -> ServiceView:
        """Stop and start again on the same port (the lease is kept throughout), with
        the restart budget whole again."""
        async with self._lock(cell_id, name):
            cell, plan = await self._plan(cell_id, name)
            handle = await self._supervisor.restart(cell.id, cell.worktree_path, plan)
            reason = await self._supervisor.wait_ready(handle)
        return await self._one(cell, plan, reason)

    async def logs(self, cell_id: str, name: str, tail: int) -> str:
        cell = await self._cells.get(cell_id)
        path = self._supervisor.logs.path(cell.id, name)
        # os.path.exists answers False where Path.exists (Python 3.11) raises: a name too
        # long for a file (ENAMETOOLONG) has no log either.
        if not await asyncio.to_thread(os.path.exists, path):
            raise NotFoundError(f"service '{name}' of cell '{cell_id}' has no log yet")
        return await self._supervisor.logs.tail(cell.id, name, tail)

    async def _one(
        self, cell: CellRecord, plan: ServicePlan, reason: str | None = None
    ) -> ServiceView:
        record = await self._services.get(cell.id, plan.name)
        view = _view(plan.name, record, plan)
        return view if reason is None else _with_reason(view, reason)

    async def adoption_plans(
        self, cells: Sequence[CellRecord]
    ) -> dict[tuple[str, str], ServicePlan]:
        """After a restart: each recorded service's plan (stop command, restart policy,
        readiness), rebuilt from its template and its leases."""
        plans: dict[tuple[str, str], ServicePlan] = {}
        for cell in cells:
            template = await self._template(cell)
            plan = await self._start_plan(cell, template) if template else None
            for service in plan.services.values() if plan else ():
                plans[(cell.id, service.name)] = service
        return plans


def _view(name: str, record: ServiceRecord | None, plan: ServicePlan | None) -> ServiceView:
    port = plan.port if plan is not None and plan.port is not None else None
    if port is None and record is not None:
        port = record.port
    return ServiceView(
        name=name,
        status=record.status if record else NOT_STARTED,
        port=port,
        url=service_url(port) if port else None,
        pid=record.pid if record else None,
        started_at=record.started_at if record else None,
        exit_code=record.exit_code if record else None,
        restarts=record.restarts if record else 0,
        last_error=record.last_error if record else None,
        readiness=plan.readiness.describe(plan.port) if plan else None,
    )


def _with_reason(view: ServiceView, reason: str) -> ServiceView:
    return replace(view, ready_reason=reason)
