"""Plan first, then act: a pure function turns a template and its leased ports into
what the supervisor starts — per service its commands, environment, port, probe and
dependencies. No I/O here; `$PORT` references are resolved here, once, for everyone.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from hive.config.schema import DependencyCondition, ProcessService, ReadyProbe, Template
from hive.core.dependencies import DependencyError, start_levels
from hive.core.errors import StepError

DEFAULT_READY_TIMEOUT_S = 60.0

_OWN_PORT = re.compile(r"\$PORT(?![A-Za-z0-9_])")


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


def resolve_ports(
    text: str,
    own_port: int | None,
    ports: Mapping[str, int],
    where: str,
    *,
    services: Collection[str] = (),
    template_level: bool = False,
) -> str:
    """Replace `$PORT:<service>` and a bare `$PORT` (on word boundaries) with numbers.

    `$PORT:<name>` counts only when <name> is one of `services` (longest name first), so
    `-p $PORT:5432` keeps meaning "my port, then :5432". At template level (template env
    and setup) a bare `$PORT` has no owner and is left for the shell.
    """
    names = sorted(set(services) | set(ports), key=len, reverse=True)
    out: list[str] = []
    last = 0
    for match in _OWN_PORT.finditer(text):
        out.append(text[last : match.start()])
        last = match.end()
        rest = text[match.end() :]
        named = next(
            (n for n in names if rest.startswith(f":{n}") and not _continues(rest, len(n) + 1)),
            None,
        )
        if named is not None:
            if named not in ports:
                raise StepError(
                    f"{where}: `$PORT:{named}` names a service without a port (a oneshot "
                    "gets one only when `port` is set)",
                    hint=f"give '{named}' a `port`, or do not refer to its port",
                )
            out.append(str(ports[named]))
            last += len(named) + 1
        elif own_port is not None:
            out.append(str(own_port))
        elif template_level:
            out.append(match.group(0))
        else:
            raise StepError(
                f"{where}: uses `$PORT`, but the service has no port (a oneshot gets one "
                "only when `port` is set)",
                hint="give the service a `port`, or refer to another one as `$PORT:<name>`",
            )
    out.append(text[last:])
    return "".join(out)


def _continues(text: str, index: int) -> bool:
    """The character at `index` would make a longer name (`$PORT:db2` is not `db`)."""
    return index < len(text) and (text[index].isalnum() or text[index] in "_-")


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
    known = list(template.services)
    plans: dict[str, ServicePlan] = {}
    for name, service in processes.items():
        where = f"templates.{template.id}.services.{name}"
        own = ports.get(name)

        def resolve(text: str, field: str, *, own: int | None = own, where: str = where) -> str:
            return resolve_ports(text, own, ports, f"{where}.{field}", services=known)

        env = {
            key: resolve(value, f"env.{key}") for key, value in {**base_env, **service.env}.items()
        }
        env.update(shared_ports)
        env.update(cell_env)
        env["HIVE_SERVICE"] = name
        if own is not None:
            env["PORT"] = env["SERVICE_PORT"] = str(own)
        timeout_ms = service.ready_timeout_ms
        plans[name] = ServicePlan(
            name=name,
            run=resolve(service.run, "run"),
            setup=tuple(resolve(cmd, f"setup[{i}]") for i, cmd in enumerate(service.setup)),
            stop=resolve(service.stop, "stop") if service.stop else None,
            cwd=_cwd(service, where),
            env=env,
            port=own,
            depends_on=service.dependencies(),
            ready=(
                service.ready.model_copy(
                    update={"command": resolve(service.ready.command, "ready.command")}
                )
                if service.ready is not None and service.ready.command
                else service.ready
            ),
            ready_timeout_s=timeout_ms / 1000 if timeout_ms else DEFAULT_READY_TIMEOUT_S,
            oneshot=service.oneshot,
            restart_limit=service.restart_limit(),
        )
    return StartPlan(services=plans, levels=levels)
