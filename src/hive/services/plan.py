"""Plan first, then act: a pure function turns a template and its leased ports into
what the supervisor starts — per service its commands, environment, port, probe and
dependencies. No I/O here; `$PORT` references are resolved here, once, for everyone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from hive.config.schema import DependencyCondition, ProcessService, ReadyProbe, Template
from hive.core.dependencies import DependencyError, start_levels
from hive.core.errors import StepError

DEFAULT_READY_TIMEOUT_S = 60.0

_PORT_OF = re.compile(r"\$PORT:([A-Za-z0-9_.-]*[A-Za-z0-9_])")
_OWN_PORT = re.compile(r"\$PORT(?![A-Za-z0-9_:])")


@dataclass(frozen=True)
class ServicePlan:
    name: str
    run: str
    setup: tuple[str, ...]
    stop: str | None
    cwd: str
    """Relative to the worktree ("" for the worktree itself)."""
    env: dict[str, str]
    port: int | None
    depends_on: dict[str, DependencyCondition]
    ready: ReadyProbe | None
    ready_timeout_s: float
    oneshot: bool
    restart_limit: int


@dataclass(frozen=True)
class StartPlan:
    services: dict[str, ServicePlan]
    levels: list[list[str]] = field(default_factory=list)
    """Start waves (for display and ordering checks); services of a wave are independent."""


def env_name(service: str) -> str:
    """`api-server` → `API_SERVER`, the stem of `API_SERVER_PORT` / `API_SERVER_URL`."""
    return re.sub(r"[^A-Za-z0-9]", "_", service).upper()


def service_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def port_variables(ports: Mapping[str, int]) -> dict[str, str]:
    """`<NAME>_PORT` and `<NAME>_URL` for every service with a port."""
    variables: dict[str, str] = {}
    for name, port in sorted(ports.items()):
        variables[f"{env_name(name)}_PORT"] = str(port)
        variables[f"{env_name(name)}_URL"] = service_url(port)
    return variables


def resolve_ports(text: str, own_port: int | None, ports: Mapping[str, int], where: str) -> str:
    """Replace `$PORT:<service>` and a bare `$PORT` (on word boundaries) with numbers."""

    def other(match: re.Match[str]) -> str:
        name = match[1]
        if name not in ports:
            known = ", ".join(sorted(ports)) or "none"
            raise StepError(
                f"{where}: `$PORT:{name}` names no service with a port (services with ports: "
                f"{known})",
                hint="fix the reference in hive.config.json",
            )
        return str(ports[name])

    text = _PORT_OF.sub(other, text)
    if own_port is None:
        if _OWN_PORT.search(text):
            raise StepError(
                f"{where}: uses `$PORT`, but has no port (a oneshot service gets one only "
                "when `port` is set)",
                hint="give the service a `port`, or refer to another one as `$PORT:<name>`",
            )
        return text
    return _OWN_PORT.sub(str(own_port), text)


def _cwd(service: ProcessService, where: str) -> str:
    if not service.cwd:
        return ""
    path = PurePosixPath(service.cwd)
    if path.is_absolute() or ".." in path.parts:
        raise StepError(
            f"{where}.cwd {service.cwd!r} leaves the worktree",
            hint="give cwd relative to the repository root, without '..'",
        )
    return str(path)


def build_plan(
    template: Template,
    ports: Mapping[str, int],
    *,
    base_env: Mapping[str, str],
    cell_env: Mapping[str, str],
) -> StartPlan:
    """The start plan of the template's process services.

    `ports` are the leased ports by service; `base_env` is the user's basics plus the
    template env (not yet resolved); `cell_env` are Hive's cell facts (HIVE_CELL_ID…).
    """
    processes = {
        name: service
        for name, service in template.services.items()
        if isinstance(service, ProcessService)
    }
    try:
        levels = start_levels({n: set(s.dependencies()) for n, s in processes.items()})
    except DependencyError as exc:
        raise StepError(f"templates.{template.id}.services: {exc}") from None
    shared_ports = port_variables(ports)
    plans: dict[str, ServicePlan] = {}
    for name, service in processes.items():
        where = f"templates.{template.id}.services.{name}"
        own = ports.get(name)
        env = {
            key: resolve_ports(value, own, ports, f"{where}.env.{key}")
            for key, value in {**base_env, **service.env}.items()
        }
        env.update(shared_ports)
        env.update(cell_env)
        env["HIVE_SERVICE"] = name
        if own is not None:
            env["PORT"] = env["SERVICE_PORT"] = str(own)
        timeout_ms = service.ready_timeout_ms
        plans[name] = ServicePlan(
            name=name,
            run=resolve_ports(service.run, own, ports, f"{where}.run"),
            setup=tuple(
                resolve_ports(cmd, own, ports, f"{where}.setup[{i}]")
                for i, cmd in enumerate(service.setup)
            ),
            stop=resolve_ports(service.stop, own, ports, f"{where}.stop") if service.stop else None,
            cwd=_cwd(service, where),
            env=env,
            port=own,
            depends_on=service.dependencies(),
            ready=service.ready,
            ready_timeout_s=timeout_ms / 1000 if timeout_ms else DEFAULT_READY_TIMEOUT_S,
            oneshot=service.oneshot,
            restart_limit=service.restart_limit(),
        )
    return StartPlan(services=plans, levels=levels)
