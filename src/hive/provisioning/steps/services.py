"""Steps that give a cell its ports and services: `allocate_ports`, `ensure_services`."""

from __future__ import annotations

import asyncio
from typing import Any

from hive.core.steps import Step, substep
from hive.provisioning.engine.context import RunContext
from hive.provisioning.environment import CellEnvironments
from hive.services.process_records import ProcessRecords
from hive.services.supervisor import Supervisor


class AllocatePorts:
    """A lease per service that needs a port (the port it had before if free), then the
    cell's `.hive/` files. Runs on every attempt: a failed run gave its ports back."""

    def __init__(self, environments: CellEnvironments) -> None:
        self._environments = environments

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        environment, _ = await self._environments.lease_ports(
            ctx.cell, ctx.workspace.path, ctx.require_template()
        )
        metadata["ports"] = dict(environment.ports)
        async with ctx.timed(substep(Step.ALLOCATE_PORTS, "cell_files")) as meta:
            meta["path"] = str(await environment.write_files())


class EnsureServices:
    """Start every service once its dependencies meet their condition; independent
    services start together. A failure cancels the others (the run's compensation then
    stops whatever started). Runs on every attempt: a failed run stopped them all."""

    def __init__(
        self, supervisor: Supervisor, environments: CellEnvironments, records: ProcessRecords
    ) -> None:
        self._supervisor = supervisor
        self._environments = environments
        self._records = records

    async def run(self, ctx: RunContext, metadata: dict[str, Any]) -> None:
        template = ctx.require_template()
        cell = ctx.cell
        plan = (await self._environments.of(cell, ctx.workspace.path, template)).plan()
        # `completed` only on oneshot services: checked when the template is loaded.
        metadata.update(services=list(plan.services), levels=plan.levels)
        if not plan.services:
            return
        supervisor = self._supervisor
        track = self._records.trackers(cell.id, "service-setup")
        events = {name: {c: asyncio.Event() for c in ("started", "ready", "completed")}
                  for name in plan.services}  # fmt: skip

        async def bring_up(name: str) -> None:
            service = plan.services[name]
            for needed, condition in service.depends_on.items():
                await events[needed][condition].wait()
            if service.setup:
                setup_step = substep(Step.ENSURE_SERVICES, f"setup:{name}")
                async with ctx.timed(setup_step) as meta:
                    meta["commands"] = len(service.setup)
                    await supervisor.run_setup(
                        cell.id, cell.worktree_path, service, track=track,
                        timed=lambda part: ctx.timed(f"{setup_step}:{part}"),
                    )  # fmt: skip
            async with ctx.timed(substep(Step.ENSURE_SERVICES, f"start:{name}")) as meta:
                meta.update(port=service.port, command=service.run)
                handle = await supervisor.spawn(cell.id, cell.worktree_path, service)
            events[name]["started"].set()
            ready_step = substep(Step.ENSURE_SERVICES, f"ready:{name}")
            async with ctx.timed(ready_step, announce=True) as meta:
                meta["check"] = service.readiness.describe(service.port)
                meta["reason"] = await supervisor.wait_ready(handle)
            events[name]["ready"].set()
            if service.oneshot:
                events[name]["completed"].set()

        try:
            async with asyncio.TaskGroup() as group:
                for name in plan.services:
                    group.create_task(bring_up(name), name=f"service:{name}")
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None  # the first service that failed, as is
