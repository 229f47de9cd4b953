"""Steps that give a cell its ports and services: allocate_ports, ensure_services, and
the delete side (stop_services, release_ports lives in delete_steps)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from hive.config.schema import ProcessService, Template
from hive.core.steps import Step, substep
from hive.provisioning.context import RunContext, require_template
from hive.provisioning.environment import cell_variables, user_basics
from hive.services.plan import (
    StartPlan,
    build_plan,
    port_variables,
    resolve_ports,
    service_url,
)
from hive.workspace.cell_files import write_cell_files


def listening_services(template: Template) -> dict[str, ProcessService]:
    return {
        name: service
        for name, service in template.services.items()
        if isinstance(service, ProcessService) and service.listens
    }


async def cell_ports(ctx: RunContext) -> dict[str, int]:
    return {lease.service: lease.port for lease in await ctx.stores.leases.for_cell(ctx.cell.id)}


def template_env(template: Template, ports: Mapping[str, int]) -> dict[str, str]:
    """The template's env with `$PORT:<service>` resolved (a bare `$PORT` has no owner)."""
    return {
        key: resolve_ports(
            value,
            None,
            ports,
            f"templates.{template.id}.env.{key}",
            services=template.services,
            template_level=True,
        )
        for key, value in template.env.items()
    }


def resolve_template_command(
    template: Template, command: str, ports: Mapping[str, int], where: str
) -> str:
    return resolve_ports(
        command, None, ports, where, services=template.services, template_level=True
    )


def start_plan(ctx: RunContext, template: Template, ports: dict[str, int]) -> StartPlan:
    return build_plan(
        template,
        ports,
        base_env={**user_basics(ctx.environ), **template.env},
        cell_env=cell_variables(ctx.cell, str(ctx.workspace.path)),
    )


async def allocate_ports(ctx: RunContext, metadata: dict[str, Any]) -> None:
    template = require_template(ctx)
    ports: dict[str, int] = {}
    for name, service in listening_services(template).items():
        previous = await ctx.stores.services.get(ctx.cell.id, name)
        ports[name] = await ctx.allocator.allocate(
            ctx.cell.id, name, service.port, previous.port if previous else None
        )
    metadata["ports"] = ports
    async with ctx.timed(substep(Step.ALLOCATE_PORTS, "cell_files")) as meta:
        meta["path"] = str(await write_runtime_files(ctx, template, ports))


async def write_runtime_files(ctx: RunContext, template: Template, ports: dict[str, int]) -> str:
    """`.hive/env` and `.hive/cell.json` for the cell, with these ports."""
    plan = start_plan(ctx, template, ports)
    env = {
        **template_env(template, ports),
        **cell_variables(ctx.cell, str(ctx.workspace.path)),
        **port_variables(ports),
    }
    services = {
        name: {
            "port": ports.get(name),
            "url": service_url(ports[name]) if name in ports else None,
            "dependsOn": sp.depends_on,
            "oneshot": sp.oneshot,
        }
        for name, sp in plan.services.items()
    }
    cell = {
        "id": ctx.cell.id,
        "name": ctx.cell.name,
        "branch": ctx.cell.branch_name,
        "baseCommit": ctx.cell.base_commit,
        "templateId": ctx.cell.template_id,
        "workspacePath": str(ctx.workspace.path),
        "services": services,
    }
    directory = await asyncio.to_thread(write_cell_files, ctx.cell.worktree_path, env, cell)
    return str(directory)


async def ensure_services(ctx: RunContext, metadata: dict[str, Any]) -> None:
    """Start every service once its dependencies meet their condition; independent
    services start together. A failure cancels the others (the run's failure handling
    then stops whatever started)."""
    template = require_template(ctx)
    plan = start_plan(ctx, template, await cell_ports(ctx))
    # `completed` only on oneshot services: checked when the template is loaded.
    metadata.update(services=list(plan.services), levels=plan.levels)
    if not plan.services:
        return
    events = {name: {c: asyncio.Event() for c in ("started", "ready", "completed")}
              for name in plan.services}  # fmt: skip
    supervisor = ctx.supervisor
    worktree = ctx.cell.worktree_path

    async def bring_up(name: str) -> None:
        service = plan.services[name]
        for needed, condition in service.depends_on.items():
            await events[needed][condition].wait()
        if service.setup:
            async with ctx.timed(substep(Step.ENSURE_SERVICES, f"setup:{name}")) as meta:
                meta["commands"] = len(service.setup)
                await supervisor.run_setup(
                    ctx.cell.id,
                    worktree,
                    service,
                    track=ctx.trackers("service-setup"),
                )
        async with ctx.timed(substep(Step.ENSURE_SERVICES, f"start:{name}")) as meta:
            meta.update(port=service.port, command=service.run)
            log_start = await supervisor.spawn(ctx.cell.id, worktree, service)
        events[name]["started"].set()
        async with ctx.timed(substep(Step.ENSURE_SERVICES, f"ready:{name}")) as meta:
            meta["reason"] = await supervisor.wait_ready(ctx.cell.id, service, log_start)
        events[name]["ready"].set()
        if service.oneshot:
            events[name]["completed"].set()

    try:
        async with asyncio.TaskGroup() as group:
            for name in plan.services:
                group.create_task(bring_up(name), name=f"service:{name}")
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None  # the first service that failed, as is
