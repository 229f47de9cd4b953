"""A template's agent: OpenCode (with its model), a terminal command in tmux, or none."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from hive.config.base import HiveModel, NonEmptyStr


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
