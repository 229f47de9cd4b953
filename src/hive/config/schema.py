"""Pydantic model of `hive.config.json`, a superset of the TypeScript Hive's schema.

Python names are snake_case; the JSON keys are their camelCase aliases, exactly as
Hive writes them. Unknown keys are forbidden, so the JSON Schema flags typos; the loader
makes them warnings (unknown_keys.py). Where we are more lenient than Hive (optional
`promptSources`, template `id` and `label`, service `type`), Hive's files load unchanged.
The shared base (HiveModel, setup entries) is in base.py, services in services.py, the
agent in agent.py; a template's `requires` and
`options` have modules of their own (requirements.py, template_options.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hive.config.agent import AgentConfig as AgentConfig
from hive.config.agent import AgentType as AgentType
from hive.config.agent import ModelRef as ModelRef
from hive.config.base import SETUP_FORMS as SETUP_FORMS
from hive.config.base import HiveModel as HiveModel
from hive.config.base import NonEmptyStr as NonEmptyStr
from hive.config.base import Number as Number
from hive.config.base import ServiceName as ServiceName
from hive.config.base import SetupCommand as SetupCommand
from hive.config.base import SetupEntry as SetupEntry
from hive.config.base import positive_ms
from hive.config.base import setup_commands as setup_commands
from hive.config.requirements import Requirements
from hive.config.services import SERVICE_TYPES as SERVICE_TYPES
from hive.config.services import ComposeService as ComposeService
from hive.config.services import DependencyCondition as DependencyCondition
from hive.config.services import DockerService as DockerService
from hive.config.services import ProcessService as ProcessService
from hive.config.services import ReadyProbe as ReadyProbe
from hive.config.services import Service as Service
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
    setup_timeout_ms: Annotated[Number | None, AfterValidator(positive_ms)] = None
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
