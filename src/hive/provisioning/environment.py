"""A cell's environment, built in one place: setup commands, services, `.hive/env`,
`.hive/cell.json` (and later a prompt's runtime context) all read it from here, so a
variable added once appears everywhere.

Hive's own settings and secrets (HIVE_HOME, tokens in the server's environment) are
not passed on: a cell sees only the user's basics and what its template gives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hive.config.schema import ProcessService, Template, setup_commands
from hive.core.errors import ConfigError
from hive.ports.allocator import PortAllocator
from hive.services.plan import (
    StartPlan,
    build_plan,
    port_variables,
    resolve_ports,
    service_url,
    services_needing_ports,
)
from hive.store.leases import LeaseStore
from hive.store.records import CellRecord
from hive.store.services import ServiceStore
from hive.workspace.cell_files import write_cell_files

#: Variables of the user's session that commands legitimately need.
USER_BASICS: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "SHELL",
    "TMPDIR",
    "TERM",
    "TZ",
)


def user_basics(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: environ[name] for name in USER_BASICS if name in environ}


def cell_variables(cell: CellRecord, workspace_path: Path) -> dict[str, str]:
    """Hive's facts about the cell, as every command of it sees them."""
    return {
        "HIVE_CELL_ID": cell.id,
        "HIVE_CELL_NAME": cell.name,
        "HIVE_CELL_PATH": str(cell.worktree_path),
        "HIVE_BRANCH": cell.branch_name,
        "HIVE_BASE_COMMIT": cell.base_commit or "",
        "HIVE_TEMPLATE_ID": cell.template_id,
        "HIVE_WORKSPACE_PATH": str(workspace_path),
    }


@dataclass(frozen=True)
class CellEnvironment:
    """Everything a cell's commands see, for one set of leased ports. Pure."""

    template: Template
    cell: CellRecord
    workspace_path: Path
    ports: Mapping[str, int]
    basics: Mapping[str, str]
    start_grace_s: float

    def _template_value(self, text: str, where: str) -> str:
        # Template level: `$PORT:<service>` resolves, a bare `$PORT` has no owner.
        return resolve_ports(
            text, None, self.ports, where, services=self.template.services, template_level=True
        )

    def variables(self) -> dict[str, str]:
        """The cell's own variables (`.hive/env`): the template's env with its port
        references resolved, the cell's facts, every `<NAME>_PORT` and `<NAME>_URL`.
        Later layers win."""
        template_env = {
            key: self._template_value(value, f"templates.{self.template.id}.env.{key}")
            for key, value in self.template.env.items()
        }
        return {
            **template_env,
            **cell_variables(self.cell, self.workspace_path),
            **port_variables(self.ports),
        }

    def setup_env(self) -> dict[str, str]:
        """What the template's setup commands run with: the user's basics, then `variables`."""
        return {**self.basics, **self.variables()}

    def setup_command(self, index: int) -> str:
        """Setup command `index` of the template, its port references resolved."""
        return self._template_value(
            setup_commands(self.template.setup)[index].run,
            f"templates.{self.template.id}.setup[{index}]",
        )

    def plan(self) -> StartPlan:
        """The services' start plan: per service its env (this, plus its own), port, check."""
        return build_plan(
            self.template,
            self.ports,
            base_env={**self.basics, **self.template.env},
            cell_env=cell_variables(self.cell, self.workspace_path),
            start_grace_s=self.start_grace_s,
        )

    def cell_json(self) -> dict[str, Any]:
        """`.hive/cell.json`: the cell and its services, with ports and URLs."""
        plan = self.plan()
        return {
            "id": self.cell.id,
            "name": self.cell.name,
            "branch": self.cell.branch_name,
            "baseCommit": self.cell.base_commit,
            "templateId": self.cell.template_id,
            "workspacePath": str(self.workspace_path),
            "worktreePath": str(self.cell.worktree_path),
            "services": {
                name: {
                    "port": self.ports.get(name),
                    "url": service_url(self.ports[name]) if name in self.ports else None,
                    "dependsOn": service.depends_on,
                    "oneshot": service.oneshot,
                    "readiness": service.readiness.describe(service.port),
                }
                for name, service in plan.services.items()
            },
        }

    async def write_files(self) -> Path:
        """Write `.hive/env` and `.hive/cell.json` into the worktree; their directory."""
        variables, cell = self.variables(), self.cell_json()
        return await asyncio.to_thread(write_cell_files, self.cell.worktree_path, variables, cell)


class CellEnvironments:
    """Builds `CellEnvironment`s from the database's leases, and leases what is missing."""

    def __init__(
        self,
        leases: LeaseStore,
        services: ServiceStore,
        allocator: PortAllocator,
        environ: Mapping[str, str],
        *,
        start_grace_s: float,
    ) -> None:
        self._leases = leases
        self._services = services
        self._allocator = allocator
        self._basics = user_basics(environ)
        self._start_grace_s = start_grace_s

    async def of(
        self, cell: CellRecord, workspace_path: Path, template: Template
    ) -> CellEnvironment:
        """The cell's environment with the ports it holds now."""
        ports = {lease.service: lease.port for lease in await self._leases.for_cell(cell.id)}
        return CellEnvironment(
            template, cell, workspace_path, ports, self._basics, self._start_grace_s
        )

    async def lease_ports(
        self,
        cell: CellRecord,
        workspace_path: Path,
        template: Template,
        names: Collection[str] | None = None,
    ) -> tuple[CellEnvironment, dict[str, int]]:
        """Lease a port for every service (of `names`, if given) that needs one and holds
        none: the port it had before when that is still free. Returns the environment
        and the ports newly leased (the caller rewrites `.hive/` files then)."""
        env = await self.of(cell, workspace_path, template)
        wanted = services_needing_ports(template)
        if names is not None:
            wanted &= set(names)
        leased: dict[str, int] = {}
        for name in sorted(wanted):
            service = template.services[name]
            assert isinstance(service, ProcessService)  # only process services need ports
            previous = await self._services.get(cell.id, name)
            try:
                port = await self._allocator.allocate(
                    cell.id, name, service.port, previous.port if previous else None
                )
            except ConfigError as exc:
                where = f"templates.{template.id}.services.{name}.port"
                raise ConfigError(f"{where}: {exc.message}", path=where, hint=exc.hint) from exc
            if env.ports.get(name) != port:
                leased[name] = port
        if leased:
            env = await self.of(cell, workspace_path, template)
        return env, leased
