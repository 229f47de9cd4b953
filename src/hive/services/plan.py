"""Plan first, then act: a pure function turns a template and its leased ports into
what the supervisor starts — per service its commands, environment, port, readiness
check and dependencies. No I/O here; `$PORT` references are resolved here, once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from hive.config.schema import (
    DependencyCondition,
    ProcessService,
    SetupCommand,
    Template,
    setup_commands,
)
from hive.core.dependencies import DependencyError, start_levels
from hive.core.errors import ConfigError
from hive.services.readiness import Readiness, readiness_of

DEFAULT_READY_TIMEOUT_S = 60.0

_OWN_PORT = re.compile(r"\$PORT(?![A-Za-z0-9_])")


@dataclass(frozen=True)
class ServicePlan:
    name: str
    run: str
    setup: tuple[SetupCommand, ...]
    """Its setup commands, port references resolved."""
    stop: str | None
    cwd: str
    """Relative to the worktree ("" for the worktree itself)."""
    env: dict[str, str]
    port: int | None
    depends_on: dict[str, DependencyCondition]
    readiness: Readiness
    ready_timeout_s: float
    oneshot: bool
    restart_limit: int
    setup_timeout_s: float | None = None
    """The template's `setupTimeoutMs` for each setup command; None: the server's."""


@dataclass(frozen=True)
class StartPlan:
    services: dict[str, ServicePlan]
    levels: list[list[str]] = field(default_factory=list)
    """Start waves (for display and ordering checks); services of a wave are independent."""


def orphan_plan(name: str, port: int | None, *, start_grace_s: float) -> ServicePlan:
    """For a running service its template no longer describes: watched and stoppable
    (group TERM, grace, KILL), never restarted, no stop command."""
    return ServicePlan(
        name=name,
        run="",
        setup=(),
        stop=None,
        cwd="",
        env={},
        port=port,
        depends_on={},
        readiness=Readiness("started", grace_s=start_grace_s),
        ready_timeout_s=DEFAULT_READY_TIMEOUT_S,
        oneshot=False,
        restart_limit=0,
    )


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


def _references(text: str, names: Collection[str]) -> Iterator[tuple[re.Match[str], str | None]]:
    """Each `$PORT` in `text` (on a word boundary) and the service it names, None for a
    bare `$PORT`. `$PORT:<name>` counts only for known names (longest first), so
    `-p $PORT:5432` means "my port, then :5432"."""
    ordered = sorted(names, key=len, reverse=True)
    for match in _OWN_PORT.finditer(text):
        rest = text[match.end() :]
        named = next(
            (n for n in ordered if rest.startswith(f":{n}") and not _continues(rest, len(n) + 1)),
            None,
        )
        yield match, named


def _continues(text: str, index: int) -> bool:
    """The character at `index` would make a longer name (`$PORT:db2` is not `db`)."""
    return index < len(text) and (text[index].isalnum() or text[index] in "_-")


def resolve_ports(
    text: str,
    own_port: int | None,
    ports: Mapping[str, int],
    where: str,
    *,
    services: Collection[str] = (),
    template_level: bool = False,
) -> str:
    """Replace `$PORT:<service>` and a bare `$PORT` with numbers; `where` is the field's
    JSON path, named by the ConfigError a reference that cannot be resolved raises.

    At template level (template env and setup) a bare `$PORT` has no owner and is left
    for the shell.
    """
    out: list[str] = []
    last = 0
    for match, named in _references(text, set(services) | set(ports)):
        out.append(text[last : match.start()])
        last = match.end()
        if named is not None:
            if named not in ports:
                raise ConfigError(
                    f"{where}: `$PORT:{named}` names a service without a port (a oneshot "
                    "gets one only when `port` is set)",
                    path=where,
                    hint=f"give '{named}' a `port`, or do not refer to its port",
                )
            out.append(str(ports[named]))
            last += len(named) + 1
        elif own_port is not None:
            out.append(str(own_port))
        elif template_level:
            out.append(match.group(0))
        else:
            raise ConfigError(
                f"{where}: uses `$PORT`, but the service has no port (a oneshot gets one "
                "only when `port` is set)",
                path=where,
                hint="give the service a `port`, or refer to another one as `$PORT:<name>`",
            )
    out.append(text[last:])
    return "".join(out)


def _texts(service: ProcessService) -> list[str]:
    """Every field of a service in which `$PORT` references are resolved."""
    texts = [service.run, *(c.run for c in setup_commands(service.setup)), *service.env.values()]
    if service.stop:
        texts.append(service.stop)
    if service.ready is not None and service.ready.command:
        texts.append(service.ready.command)
    return texts


def services_needing_ports(template: Template) -> set[str]:
    """The process services that get a leased port.

    A service gets one when it names a `port`, has a tcp or http ready probe, refers to
    its own `$PORT`, or another part of the template refers to it as `$PORT:<name>`. A
    oneshot gets one only through `port`. Everything else (a worker, `tsc --watch`) runs
    without a port and is ready once it has started.
    """
    processes = {
        name: service
        for name, service in template.services.items()
        if isinstance(service, ProcessService)
    }
    names = list(template.services)
    needed: set[str] = set()
    referenced: set[str] = set()
    for text in [*template.env.values(), *(c.run for c in setup_commands(template.setup))]:
        referenced |= {n for _, n in _references(text, names) if n is not None}
    if any(n is None for text in template.env.values() for _, n in _references(text, names)):
        # A bare `$PORT` in the template env is each service's own: they all use one.
        needed |= set(processes)
    for name, service in processes.items():
        for text in _texts(service):
            for _, named in _references(text, names):
                if named is None:
                    needed.add(name)
                elif named != name:
                    referenced.add(named)
                else:
                    needed.add(name)
        probe = service.ready
        if service.port is not None or (
            probe is not None and (probe.tcp or probe.http is not None)
        ):
            needed.add(name)
    needed |= {n for n in referenced if n in processes}
    return {n for n in needed if not processes[n].oneshot or processes[n].port is not None}


def _cwd(service: ProcessService, where: str) -> str:
    if not service.cwd:
        return ""
    path = PurePosixPath(service.cwd)
    if path.is_absolute() or ".." in path.parts:
        raise ConfigError(
            f"{where}.cwd {service.cwd!r} leaves the worktree",
            path=f"{where}.cwd",
            hint="give cwd relative to the repository root, without '..'",
        )
    return str(path)


def build_plan(
    template: Template,
    ports: Mapping[str, int],
    *,
    base_env: Mapping[str, str],
    cell_env: Mapping[str, str],
    start_grace_s: float,
) -> StartPlan:
    """The start plan of the template's process services.

    `ports` are the leased ports by service; `base_env` is the user's basics plus the
    template env (not yet resolved); `cell_env` are Hive's cell facts (HIVE_CELL_ID…);
    `start_grace_s` is how long a service without a port or probe must stay up.
    """
    processes = {
        name: service
        for name, service in template.services.items()
        if isinstance(service, ProcessService)
    }
    try:
        levels = start_levels({n: set(s.dependencies()) for n, s in processes.items()})
    except DependencyError as exc:
        where = f"templates.{template.id}.services"
        raise ConfigError(f"{where}: {exc}", path=where) from None
    shared_ports = port_variables(ports)
    known = list(template.services)
    plans: dict[str, ServicePlan] = {}
    for name, service in processes.items():
        where = f"templates.{template.id}.services.{name}"
        own = ports.get(name)

        def resolve(text: str, field: str, *, own: int | None = own, where: str = where) -> str:
            return resolve_ports(text, own, ports, f"{where}.{field}", services=known)

        # Template-level values: a bare `$PORT` there is each service's own, or left for
        # the shell in a service that has none.
        env = {
            key: resolve_ports(
                value, own, ports, f"templates.{template.id}.env.{key}", services=known,
                template_level=True,
            )
            for key, value in base_env.items()
        }  # fmt: skip
        env.update({key: resolve(value, f"env.{key}") for key, value in service.env.items()})
        env.update(shared_ports)
        env.update(cell_env)
        env["HIVE_SERVICE"] = name
        if own is not None:
            env["PORT"] = env["SERVICE_PORT"] = str(own)
        timeout_ms = service.ready_timeout_ms
        command = service.ready.command if service.ready is not None else None
        plans[name] = ServicePlan(
            name=name,
            run=resolve(service.run, "run"),
            setup=tuple(
                cmd.model_copy(update={"run": resolve(cmd.run, f"setup[{i}]")})
                for i, cmd in enumerate(setup_commands(service.setup))
            ),
            stop=resolve(service.stop, "stop") if service.stop else None,
            cwd=_cwd(service, where),
            env=env,
            port=own,
            depends_on=service.dependencies(),
            readiness=readiness_of(
                service,
                port=own,
                command=resolve(command, "ready.command") if command else None,
                start_grace_s=start_grace_s,
            ),
            ready_timeout_s=timeout_ms / 1000 if timeout_ms else DEFAULT_READY_TIMEOUT_S,
            oneshot=service.oneshot,
            restart_limit=service.restart_limit(),
            setup_timeout_s=(
                template.setup_timeout_ms / 1000 if template.setup_timeout_ms else None
            ),
        )
    return StartPlan(services=plans, levels=levels)
