"""A template's services: processes (with readiness probes, ports, dependencies and
restart policies), and Docker and Compose services, told apart by `type`."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from hive.config.base import HiveModel, Number, ServiceName, SetupEntry

DependencyCondition = Literal["started", "ready", "completed"]
_PORT_RANGE = re.compile(r"^(\d{1,5})-(\d{1,5})$")
_RESTART = re.compile(r"^(no|on-failure)(?::(\d+))?$")


def _port_spec(value: int | str) -> int | str:
    if isinstance(value, int):
        if not 1 <= value <= 65535:
            raise ValueError(f"port {value} is not between 1 and 65535")
        return value
    match = _PORT_RANGE.match(value)
    if not match:
        raise ValueError(f"port {value!r} is neither a number nor a range like '7000-7099'")
    low, high = int(match[1]), int(match[2])
    if not 1 <= low <= high <= 65535:
        raise ValueError(f"port range {value!r} must go up, within 1-65535")
    return value


def _restart_spec(value: str) -> str:
    if not _RESTART.match(value) or value.startswith("no:"):
        raise ValueError(f"restart {value!r}: use 'no', 'on-failure' or 'on-failure:<limit>'")
    return value


class ReadyProbe(HiveModel):
    """How Hive knows a service is ready: exactly one of `tcp`, `http`, `command`, `log`
    (Python Hive extension)."""

    tcp: bool | None = None
    """Ready once its port accepts a TCP connection (the default for a service with a port)."""
    http: str | None = None
    """Ready once `GET http://127.0.0.1:$PORT<path>` answers below 500, e.g. "/health"."""
    command: str | None = None
    """Ready once this shell command exits 0, e.g. "pg_isready -p $PORT"."""
    log: str | None = None
    """Ready once a line of the service's output matches this regular expression."""
    interval_ms: Number = 100
    """Milliseconds between two checks."""

    @model_validator(mode="after")
    def _exactly_one(self) -> ReadyProbe:
        chosen = [
            k for k in ("tcp", "http", "command", "log") if getattr(self, k) not in (None, False)
        ]
        if len(chosen) != 1:
            raise ValueError("a ready probe needs exactly one of tcp, http, command, log")
        if self.log is not None:
            try:
                re.compile(self.log)
            except re.error as exc:
                raise ValueError(
                    f"log pattern {self.log!r} is not a regular expression: {exc}"
                ) from exc
        if self.http is not None and not self.http.startswith("/"):
            raise ValueError(f"http probe {self.http!r} must be a path starting with '/'")
        return self


class ProcessService(HiveModel):
    """A long-running process started in the cell's worktree."""

    supported: ClassVar[bool] = True

    type: Literal["process"] = "process"
    """Service type; may be omitted for process services."""
    run: str
    """Command to run the service."""
    setup: list[SetupEntry] = Field(default_factory=list)
    """Setup commands to run before the main command: strings, or objects with
    `retries` (extension)."""
    cwd: str | None = None
    """Working directory for the service, relative to the worktree."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables for the service."""
    ready_timeout_ms: Number | None = None
    """Milliseconds to wait for the service to be ready."""
    stop: str | None = None
    """Command to stop the service gracefully."""
    depends_on: list[ServiceName] | dict[ServiceName, DependencyCondition] = Field(
        default_factory=list
    )
    """Services to wait for (Python Hive extension): a list of names (wait until they are
    ready) or a map of name to `started`, `ready` or `completed` (a oneshot exited 0)."""
    oneshot: bool = False
    """A job that runs to completion (a migration) instead of staying up (extension)."""
    ready: ReadyProbe | None = None
    """How to tell the service is ready (extension); default: its port accepts TCP."""
    port: Annotated[int | str, AfterValidator(_port_spec)] | None = None
    """A fixed port, or a range such as "7000-7099" to lease from (extension)."""
    restart: Annotated[str, AfterValidator(_restart_spec)] = "no"
    """`no`, `on-failure` or `on-failure:<limit>` (default limit 3) (extension)."""

    def dependencies(self) -> dict[str, DependencyCondition]:
        if isinstance(self.depends_on, dict):
            return dict(self.depends_on)
        return dict.fromkeys(self.depends_on, "ready")

    def restart_limit(self) -> int:
        """How many times a crashed service is restarted (0: never)."""
        match = _RESTART.match(self.restart)
        if match is None or match[1] == "no":
            return 0
        return int(match[2]) if match[2] else 3

    @property
    def listens(self) -> bool:
        """Gets a leased port: every long-running service, and a oneshot given a port."""
        return not self.oneshot or self.port is not None


class DockerService(HiveModel):
    """A Docker container. Accepted for compatibility; Hive cannot run it yet."""

    supported: ClassVar[bool] = False

    type: Literal["docker"]
    """Service type."""
    image: str
    """Docker image to use."""
    command: str | None = None
    """Command overriding the image's default."""
    ports: list[str] = Field(default_factory=list)
    """Port mappings, e.g. '3000:3000'."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables for the container."""
    volumes: list[str] = Field(default_factory=list)
    """Volume mappings."""
    ready_timeout_ms: Number | None = None
    """Milliseconds to wait for the service to be ready."""


class ComposeService(HiveModel):
    """A docker-compose project. Accepted for compatibility; Hive cannot run it yet."""

    supported: ClassVar[bool] = False

    type: Literal["compose"]
    """Service type."""
    file: str
    """Path to the docker-compose.yml file."""
    services: list[str] = Field(default_factory=list)
    """Specific compose services to run; all when empty."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables for the compose project."""


#: The tags of the `Service` union. They show up in pydantic error locations, between
#: the service name and the field, and the loader strips them from error paths.
SERVICE_TYPES = ("process", "docker", "compose")


def _service_type(value: Any) -> str | None:
    # Hive requires `type`; we default it to "process". A non-object is routed to
    # ProcessService so the error says "should be an object", not "bad type".
    if isinstance(value, dict):
        kind = value.get("type", "process")
        return kind if isinstance(kind, str) else None
    if isinstance(value, BaseModel):
        return getattr(value, "type", None)
    return "process"


Service = Annotated[
    Annotated[ProcessService, Tag("process")]
    | Annotated[DockerService, Tag("docker")]
    | Annotated[ComposeService, Tag("compose")],
    Discriminator(
        _service_type,
        custom_error_type="service_type",
        custom_error_message="Service type should be 'process', 'docker' or 'compose'",
    ),
]
