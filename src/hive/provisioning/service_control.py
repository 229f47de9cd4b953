"""Service actions on a ready cell: list, start, stop, restart (same port), logs."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from hive.config.schema import ProcessService
from hive.core.errors import ConflictError, NotFoundError, StepError
from hive.core.status import CellStatus
from hive.core.steps import Workflow
from hive.provisioning.context import RunContext, Stores, require_template
from hive.provisioning.runner import Runner
from hive.provisioning.service_steps import (
    cell_ports,
    listening_services,
    start_plan,
    write_runtime_files,
)
from hive.services.plan import ServicePlan, service_url
from hive.services.supervisor import Supervisor


class ServiceControl:
    def __init__(self, stores: Stores, runner: Runner, supervisor: Supervisor) -> None:
        self._stores = stores
        self._runner = runner
        self._supervisor = supervisor
        # One action at a time per service: two starts must not both run its setup.
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _lock(self, cell_id: str, name: str) -> asyncio.Lock:
        return self._locks.setdefault((cell_id, name), asyncio.Lock())

    async def list(self, cell_id: str) -> list[dict[str, Any]]:
        cell = await self._stores.cells.get(cell_id)
        records = {r.name: r for r in await self._stores.services.for_cell(cell.id)}
        ports = {lease.service: lease.port for lease in await self._stores.leases.for_cell(cell.id)}
        ctx = await self._runner.context_for(cell, Workflow.SERVICE)
        names = list(ctx.template.services) if ctx.template else []
        names += [name for name in records if name not in names]
        services = []
        for name in names:
            record = records.get(name)
            port = ports.get(name, record.port if record else None)
            services.append(
                {
                    "name": name,
                    "status": record.status if record else "not started",
                    "port": port,
                    "url": service_url(port) if port else None,
                    "pid": record.pid if record else None,
                    "startedAt": record.started_at if record else None,
                    "exitCode": record.exit_code if record else None,
                    "restarts": record.restarts if record else 0,
                    "lastError": record.last_error if record else None,
                }
            )
        return services

    async def _plan(self, cell_id: str, name: str) -> tuple[RunContext, ServicePlan]:
        cell = await self._stores.cells.get(cell_id)
        if cell.status != CellStatus.READY:
            raise ConflictError(
                f"cell '{cell_id}' is {cell.status}; services can be managed once it is ready"
            )
        ctx = await self._runner.context_for(cell, Workflow.SERVICE)
        template = require_template(ctx)
        service = template.services.get(name)
        if not isinstance(service, ProcessService):
            known = ", ".join(sorted(template.services)) or "none"
            raise NotFoundError(
                f"template '{template.id}' has no process service '{name}'",
                hint=f"services: {known}",
            )
        ports = await cell_ports(ctx)
        if name in listening_services(template) and name not in ports:
            # Its lease was given back (the service was stopped after a failure): take
            # the same port again if it is still free.
            previous = await self._stores.services.get(cell.id, name)
            ports[name] = await ctx.allocator.allocate(
                cell.id, name, service.port, previous.port if previous else None
            )
            await write_runtime_files(ctx, template, ports)
        plan = start_plan(ctx, template, ports)
        self._supervisor.adopt_plan(cell.id, plan.services[name])
        return ctx, plan.services[name]

    async def attach_plans(self) -> None:
        """After a restart: give re-adopted services their plan (stop command, restart
        policy), rebuilt from the template and the leases."""
        for cell in await self._stores.cells.list(statuses=[CellStatus.READY]):
            ctx = await self._runner.context_for(cell, Workflow.SERVICE)
            if ctx.template is None:
                continue
            try:
                plan = start_plan(ctx, ctx.template, await cell_ports(ctx))
            except StepError:
                continue  # the config changed meanwhile; the service runs on without it
            for service in plan.services.values():
                self._supervisor.adopt_plan(cell.id, service)

    async def start(self, cell_id: str, name: str) -> dict[str, Any]:
        async with self._lock(cell_id, name):
            ctx, plan = await self._plan(cell_id, name)
            log_start = await self._supervisor.start(
                ctx.cell.id,
                ctx.cell.worktree_path,
                plan,
                # On record while they run: a server killed meanwhile stops them next start.
                track=ctx.trackers("service-setup"),
            )
            reason = await self._supervisor.wait_ready(ctx.cell.id, plan, log_start)
        return await self._one(ctx.cell.id, name, reason)

    async def stop(self, cell_id: str, name: str) -> dict[str, Any]:
        async with self._lock(cell_id, name):
            ctx, plan = await self._plan(cell_id, name)
            await self._supervisor.stop(ctx.cell.id, plan.name)
        return await self._one(ctx.cell.id, name)

    async def restart(self, cell_id: str, name: str) -> dict[str, Any]:
        """Stop and start again on the same port (the lease is kept throughout); a manual
        restart also gives `restart: on-failure` its full budget again."""
        async with self._lock(cell_id, name):
            ctx, plan = await self._plan(cell_id, name)
            await self._supervisor.stop(ctx.cell.id, plan.name)
            await self._stores.services.save(ctx.cell.id, plan.name, restarts=0)
            log_start = await self._supervisor.spawn(ctx.cell.id, ctx.cell.worktree_path, plan)
            reason = await self._supervisor.wait_ready(ctx.cell.id, plan, log_start)
        return await self._one(ctx.cell.id, name, reason)

    async def logs(self, cell_id: str, name: str, tail: int) -> str:
        cell = await self._stores.cells.get(cell_id)
        path = self._supervisor.logs.path(cell.id, name)
        # os.path.exists answers False where Path.exists (Python 3.11) raises: a name too
        # long for a file (ENAMETOOLONG) has no log either.
        if not await asyncio.to_thread(os.path.exists, path):
            raise NotFoundError(f"service '{name}' of cell '{cell_id}' has no log yet")
        return await self._supervisor.logs.tail(cell.id, name, tail)

    async def _one(self, cell_id: str, name: str, reason: str | None = None) -> dict[str, Any]:
        service = next(s for s in await self.list(cell_id) if s["name"] == name)
        if reason:
            service["readyReason"] = reason
        return service
