"""Pydantic model of `hive.config.json`, a superset of the TypeScript Hive's schema.

Python names are snake_case; the JSON keys are their camelCase aliases, exactly as
Hive writes them. Unknown keys are forbidden, so the JSON Schema flags typos; the loader
makes them warnings (unknown_keys.py). Where we are more lenient than Hive (optional
`promptSources`, template `id` and `label`, service `type`), Hive's files load unchanged.
The shared base (HiveModel, setup entries) is in base.py; a template's `requires` and
`options` have modules of their own (requirements.py, template_options.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from hive.config.base import SETUP_FORMS as SETUP_FORMS
from hive.config.base import HiveModel as HiveModel
from hive.config.base import NonEmptyStr as NonEmptyStr
from hive.config.base import Number as Number
from hive.config.base import ServiceName as ServiceName
from hive.config.base import SetupCommand as SetupCommand
from hive.config.base import SetupEntry as SetupEntry
from hive.config.base import setup_commands as setup_commands
from hive.config.requirements import Requirements
from hive.config.template_options import OptionKey, TemplateOption, invalid, option_problems
from hive.core.dependencies import DependencyError, start_levels
from hive.core.patterns import pattern_problem


def _usable_pattern(pattern: str) -> str:
    if not pattern.strip():
        return pattern  # Hive accepts blank entries; include-copy skips them
    problem = pattern_problem(pattern)
    if problem is not None:
        raise ValueError(f"pattern {pattern!r} {problem}")
    return pattern


#: An include/ignore pattern: gitignore syntax, inside the repository.
CopyPattern = Annotated[str, AfterValidator(_usable_pattern)]
TemplateId = NonEmptyStr
AgentMode = Literal["plan", "build"]


def _positive_ms(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValueError("must be a positive number of milliseconds")
    return value


# --- services -------------------------------------------------------------------


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


# --- agent ----------------------------------------------------------------------


class ModelRef(HiveModel):
    """A model of an OpenCode provider."""

    provider_id: str
    """OpenCode provider identifier."""
    id: str
    """Model identifier within the provider."""
    variant: str | None = None
    """Optional model variant identifier."""


_DEPRECATED: dict[str, Any] = {"deprecated": True}


AgentType = Literal["opencode", "command", "none"]


class AgentConfig(HiveModel):
    """The coding agent a template's cells start with."""

    type: AgentType | None = None
    """`opencode` (the default when it is available), `command` (a terminal agent run
    by `run` in tmux) or `none` (Python Hive extension)."""
    run: NonEmptyStr | None = None
    """For `type: command`: the bash command that starts the agent in the worktree, e.g.
    `claude "$(cat .hive/PROMPT.md)"` (Python Hive extension)."""
    model: ModelRef | None = None
    """Model for this template's agent."""
    provider_id: str | None = Field(default=None, json_schema_extra=_DEPRECATED)
    """Deprecated, use `model.providerId`: OpenCode provider identifier."""
    model_id: str | None = Field(default=None, json_schema_extra=_DEPRECATED)
    """Deprecated, use `model.id`: model identifier within the provider."""
    variant: str | None = Field(default=None, json_schema_extra=_DEPRECATED)
    """Deprecated, use `model.variant`: model variant identifier."""
    agent_id: str | None = None
    """Agent preset identifier."""

    @model_validator(mode="after")
    def _fits_its_type(self) -> AgentConfig:
        kind = self.kind
        if kind == "command" and self.run is None:
            raise ValueError("a `command` agent needs `run`: the command that starts it")
        if kind != "command" and self.run is not None:
            raise ValueError("`run` is only for `type: command` agents")
        if kind != "opencode" and self.chooses_model:
            raise ValueError(
                f"a `{kind}` agent takes no model: "
                + (
                    "its `run` command chooses it"
                    if kind == "command"
                    else "remove `model`, `providerId`, `modelId` and `variant`"
                )
            )
        return self

    @property
    def kind(self) -> AgentType:
        """The type, with Hive's configs (no `type`) read as OpenCode."""
        return self.type or "opencode"

    @property
    def chooses_model(self) -> bool:
        return any(
            v is not None for v in (self.model, self.provider_id, self.model_id, self.variant)
        )


# --- templates ------------------------------------------------------------------


def _label_from_id(data: dict[str, Any]) -> str:
    # `data` holds the fields validated so far; `id` is absent only if it was invalid.
    return str(data.get("id", ""))


def _id_is_optional(schema: dict[str, Any]) -> None:
    # The model needs `id`, but `with_template_id` fills it from the template's key,
    # so editors must not demand it.
    required = [name for name in schema.get("required", []) if name != "id"]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)


class Template(HiveModel):
    """A recipe for cells: services, setup, prompts and agent."""

    model_config = ConfigDict(json_schema_extra=_id_is_optional)

    id: TemplateId
    """Template identifier; defaults to the template's key in `templates`."""
    label: str = Field(default_factory=_label_from_id)
    """Display name; defaults to the id."""
    type: Literal["manual"] = "manual"
    """Template type."""
    description: str | None = None
    """Longer description shown when choosing a template (Python Hive extension)."""
    requires: Requirements | None = None
    """Commands, repository files and env variables the cells need, checked before a
    cell is made (Python Hive extension)."""
    options: dict[OptionKey, TemplateOption] = Field(default_factory=dict)
    """Named choices made when a cell is created, each adding env, services and setup
    (Python Hive extension)."""
    services: dict[ServiceName, Service] = Field(default_factory=dict)
    """Services the template's cells run, by name."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables for setup, services and teardown."""
    setup: list[SetupEntry] = Field(default_factory=list)
    """Commands to run once before starting the template's services: strings, or
    objects `{run, retries, retryDelayMs}` (extension)."""
    setup_timeout_ms: Annotated[Number | None, AfterValidator(_positive_ms)] = None
    """Milliseconds each setup command (the template's and its services') may run
    before it is stopped (extension); default: the server's HIVE_SETUP_TIMEOUT."""
    prompts: list[str] = Field(default_factory=list)
    """Prompt files or directories, relative to the workspace root."""
    agent: AgentConfig | None = None
    """Agent configuration for this template."""
    teardown: list[str] = Field(default_factory=list)
    """Cleanup commands run when a cell stops."""
    include_patterns: list[CopyPattern] = Field(default_factory=list)
    """Gitignored files to copy into worktrees, e.g. '.env' or '*.local'."""
    ignore_patterns: list[CopyPattern] = Field(default_factory=list)
    """Glob patterns to skip when copying included files into worktrees."""

    @model_validator(mode="after")
    def _dependencies_resolve(self) -> Template:
        graph = {
            name: (set(service.dependencies()) if isinstance(service, ProcessService) else set())
            for name, service in self.services.items()
        }
        try:
            start_levels(graph)
        except DependencyError as exc:
            raise ValueError(f"services.dependsOn: {exc}") from None
        for name, service in self.services.items():
            if not isinstance(service, ProcessService):
                continue
            for needed, condition in service.dependencies().items():
                other = self.services[needed]
                if condition == "completed" and not (
                    isinstance(other, ProcessService) and other.oneshot
                ):
                    raise ValueError(
                        f"services.{name}.dependsOn: '{needed}' can only be waited for as "
                        "'completed' if it is a oneshot service (set `oneshot: true`)"
                    )
        return self

    @model_validator(mode="after")
    def _options_fit(self) -> Template:
        dependencies = {
            name: (set(service.dependencies()) if isinstance(service, ProcessService) else set())
            for name, service in self.services.items()
        }
        problems = option_problems(self.options, dependencies)
        if problems:
            raise invalid("Template", problems, self.options)
        return self


def with_template_id(key: str, raw: Any) -> Any:
    """The raw template under `key`, with `id` defaulted to the key."""
    if isinstance(raw, dict) and "id" not in raw:
        return {"id": key, **raw}
    return raw


# --- top level ------------------------------------------------------------------


class OpencodeConfig(HiveModel):
    """OpenCode settings shared by all templates."""

    token: str | None = None
    """Authentication token, or a reference to an environment variable holding it."""
    default_provider: NonEmptyStr | None = None
    """Provider used when a template names none."""
    default_model: str | None = None
    """Model used when a template names none."""
    default_mode: AgentMode | None = None
    """Agent mode for new cells."""


class Defaults(HiveModel):
    """Defaults for creating cells."""

    template_id: str | None = None
    """Template used when none is chosen."""
    start_mode: AgentMode | None = None
    """Agent mode for new cells."""


class HiveConfig(HiveModel):
    """Hive workspace configuration (`hive.config.json`)."""

    schema_uri: str | None = Field(default=None, alias="$schema")
    """JSON Schema reference, for editors."""
    opencode: OpencodeConfig | None = None
    """OpenCode settings shared by all templates."""
    prompt_sources: list[str] = Field(default_factory=list)
    """Glob patterns of prompt fragments used to assemble agent briefs."""
    base_prompt: str | None = None
    """A file (relative to the repository) or https URL replacing Hive's built-in base
    prompt, the first fragment of every cell's prompt. Hive's extension."""
    templates: dict[TemplateId, Template]
    """Cell templates, by id."""
    defaults: Defaults | None = None
    """Defaults for creating cells."""

    @field_validator("templates", mode="before")
    @classmethod
    def _ids_from_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: with_template_id(key, raw) for key, raw in value.items()}
        return value
