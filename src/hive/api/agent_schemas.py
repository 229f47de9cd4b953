"""Bodies of the agent endpoints: a cell's agent, the models on offer, a message."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from hive.agents.models import Providers
from hive.api.bodies import _UNICODE, _Body, _Request


class AgentModelOut(_Body):
    provider_id: str
    model_id: str
    variant: str | None = None


class AgentOut(_Body):
    """The cell's agent: what it is, its session, what it is doing, how to reach it."""

    type: str = Field(description="`opencode`, `command` or `none`")
    session_id: str | None = None
    status: str | None = Field(
        default=None,
        description="`starting`, `working`, `idle`, `waiting` (for the user), `error` "
        "or `stopped`; None without an agent",
    )
    model: AgentModelOut | None = None
    mode: str | None = None
    attach: str | None = Field(default=None, description="what to type to attach a terminal")
    error: str | None = None
    warning: str | None = None
    exit_code: int | None = None

    @classmethod
    def of(cls, agent: dict[str, Any] | None) -> AgentOut | None:
        if not agent or not agent.get("type"):
            return None
        model = agent.get("model")
        return cls(
            type=agent["type"],
            session_id=agent.get("sessionId"),
            status=agent.get("status"),
            model=AgentModelOut.model_validate(model) if model else None,
            mode=agent.get("mode"),
            attach=agent.get("attach"),
            error=agent.get("error"),
            warning=agent.get("warning"),
            exit_code=agent.get("exitCode"),
        )


class ProviderOut(_Body):
    id: str
    name: str
    models: list[str]
    default_model: str | None


class AgentModelsOut(_Body):
    """What a model picker offers: the OpenCode agent's connected providers."""

    agent: str
    available: bool
    reason: str | None = None
    """Why there is nothing to pick, when `available` is false."""
    providers: list[ProviderOut]

    @classmethod
    def of(cls, providers: Providers) -> AgentModelsOut:
        return cls(
            agent="opencode",
            available=True,
            providers=[
                ProviderOut(
                    id=p.id,
                    name=p.name,
                    models=list(p.models),
                    default_model=providers.defaults.get(p.id),
                )
                for p in providers.providers
            ],
        )


class AgentMessage(_Request):
    text: Annotated[str, Field(min_length=1, max_length=100_000), _UNICODE]
