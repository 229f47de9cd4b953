"""A cell's environment, built in one place: setup commands, services, `.hive/env`,
`.hive/cell.json` (and later a prompt's runtime context) all read it from here, so a
variable added once appears everywhere.

Hive's own settings and secrets (HIVE_HOME, tokens in the server's environment) are
not passed on: a cell sees only the user's basics and what its template gives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hive.config.schema import ProcessService, SetupCommand, Template, setup_commands
from hive.core.errors import ConfigError
from hive.ports.allocator import PortAllocator
from hive.provisioning.options import Choices, apply_options
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


#: Hive's facts about a cell, by name (`cell_variables` gives their values).
CELL_FACTS = (
    "HIVE_CELL_ID",
    "HIVE_CELL_NAME",
    "HIVE_CELL_PATH",
    "HIVE_BRANCH",
    "HIVE_BASE_COMMIT",
    "HIVE_TEMPLATE_ID",
    "HIVE_WORKSPACE_PATH",
)


def cell_variables(cell: CellRecord, workspace_path: Path) -> dict[str, str]:
    """Hive's facts about the cell, as every command of it sees them."""
    values = (
        cell.id,
        cell.name,
        str(cell.worktree_path),
        cell.branch_name,
        cell.base_commit or "",
        cell.template_id,
        str(workspace_path),
    )
    return dict(zip(CELL_FACTS, values, strict=True))


def variable_names(template: Template, basics: Mapping[str, str]) -> set[str]:
    """The names of every variable a new cell of `template` (its options applied) would
    have in its setup commands: before it exists, ports and facts are only names."""
    ports = dict.fromkeys(services_needing_ports(template), 0)
    return {*basics, *template.env, *CELL_FACTS, *port_variables(ports)}


@dataclass(frozen=True)
class CellEnvironment:
    """Everything a cell's commands see, for one set of leased ports. Pure."""

    template: Template
    """The template as this cell runs it: its chosen options applied (`CellEnvironments`
    applies them; provisioning/options.py)."""
    cell: CellRecord
    workspace_path: Path
    ports: Mapping[str, int]
    basics: Mapping[str, str]
    start_grace_s: float
    choices: Choices = field(default_factory=Choices)
    """The cell's option values, and where the env and setup they added come from."""

    def _template_value(self, text: str, where: str) -> str:
        # Template level: `$PORT:<service>` resolves, a bare `$PORT` has no owner.
        return resolve_ports(
            text, None, self.ports, where, services=self.template.services, template_level=True
        )

    def variables(self) -> dict[str, str]:
        """The cell's own variables (`.hive/env`): the template's env with its port
        references resolved, the cell's facts, every `<NAME>_PORT` and `<NAME>_URL`.
        Later layers win."""
        paths = self.choices.env_paths
        template_env = {
            key: self._template_value(
                value, paths.get(key, f"templates.{self.template.id}.env.{key}")
            )
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

    def setup_commands(self) -> tuple[SetupCommand, ...]:
        """The setup commands, the template's then its chosen options', in order."""
        return setup_commands(self.template.setup)

    def setup_path(self, index: int) -> str:
        """Where setup command `index` is in the config, e.g. `templates.web.setup[1]`."""
        return self.choices.setup_paths.get(index, f"templates.{self.template.id}.setup[{index}]")

    def setup_command(self, index: int) -> str:
        """Setup command `index`, its port references resolved."""
        return self._template_value(self.setup_commands()[index].run, self.setup_path(index))

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
            "options": dict(self.choices.chosen),
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
        """The cell's environment with the ports it holds now, from `template` as the
        config has it (the cell's options are applied here, once)."""
        ports = {lease.service: lease.port for lease in await self._leases.for_cell(cell.id)}
        applied, choices = apply_options(template, cell.options)
        return CellEnvironment(
            applied, cell, workspace_path, ports, self._basics, self._start_grace_s, choices
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
        # Only the services the cell's options leave on get ports.
        wanted = services_needing_ports(env.template)
        if names is not None:
            wanted &= set(names)
        leased: dict[str, int] = {}
        for name in sorted(wanted):
            service = env.template.services[name]
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
