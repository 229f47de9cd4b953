"""Which agent a cell starts with, on which model and in which mode: the template's
`agent`, the workspace's `opencode` and `defaults`, and the create request's overrides,
resolved once into an AgentPlan. Pure: whether OpenCode is available is an input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from hive.agents.models import ModelRef, Providers, UnknownModelError
from hive.config.schema import AgentConfig, Defaults, OpencodeConfig
from hive.core.errors import InvalidInputError

AgentKind = Literal["opencode", "command", "none"]


@dataclass(frozen=True)
class AgentRequest:
    """What `POST /api/cells` chose: `providerId`, `modelId`, `startMode`."""

    provider_id: str | None = None
    model_id: str | None = None
    start_mode: str | None = None

    @property
    def chooses_model(self) -> bool:
        return self.provider_id is not None or self.model_id is not None

    def to_json(self) -> dict[str, Any] | None:
        data = {
            "providerId": self.provider_id,
            "modelId": self.model_id,
            "startMode": self.start_mode,
        }
        kept = {k: v for k, v in data.items() if v is not None}
        return kept or None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> AgentRequest:
        data = data or {}
        return cls(data.get("providerId"), data.get("modelId"), data.get("startMode"))

    def described(self) -> str:
        return "/".join(p for p in (self.provider_id, self.model_id) if p) or "(none)"


@dataclass(frozen=True)
class AgentPlan:
    kind: AgentKind
    provider_id: str | None = None
    model_id: str | None = None
    """None: the provider's default model (or OpenCode's own default, with no provider)."""
    variant: str | None = None
    mode: str | None = None
    """The OpenCode agent a turn runs as: the template's `agentId`, else `plan`/`build`."""
    run: str | None = None
    warning: str | None = None
    """Why the cell has no agent although its template did not ask for none."""


def plan_agent(
    template: AgentConfig | None,
    opencode: OpencodeConfig | None,
    defaults: Defaults | None,
    request: AgentRequest,
    *,
    opencode_unavailable: str | None,
) -> AgentPlan:
    """The plan; InvalidInputError when the request chooses a model for a cell that will
    have no agent able to take one (it names the model)."""
    kind: AgentKind = template.kind if template is not None else "opencode"
    warning = None
    if template is None and opencode_unavailable is not None:
        kind, warning = "none", f"no agent: {opencode_unavailable}"
    if request.chooses_model and kind != "opencode":
        why = {
            "command": "its command agent chooses its own model (in `run`)",
            "none": warning or "its template has no agent (`agent.type: none`)",
        }[kind]
        raise InvalidInputError(
            f"model {request.described()} cannot be used: {why}",
            hint="leave out providerId and modelId, or pick a template with an OpenCode agent",
        )
    if kind == "command":
        assert template is not None and template.run is not None  # the config checks it
        return AgentPlan("command", run=template.run)
    if kind == "none":
        return AgentPlan("none", warning=warning)
    provider, model, variant = _template_model(template)
    if provider is None and model is None and opencode is not None:
        provider, model = opencode.default_provider, opencode.default_model
    if request.chooses_model:
        if request.provider_id is not None and request.provider_id != provider:
            model = None  # another provider: the template's model is not one of its own
        provider = request.provider_id or provider
        model = request.model_id or model
        variant = None if request.model_id else variant
    mode = _mode(template, opencode, defaults, request)
    return AgentPlan("opencode", provider, model, variant, mode)


def _template_model(template: AgentConfig | None) -> tuple[str | None, str | None, str | None]:
    if template is None:
        return None, None, None
    if template.model is not None:
        return template.model.provider_id, template.model.id, template.model.variant
    return template.provider_id, template.model_id, template.variant


def _mode(
    template: AgentConfig | None,
    opencode: OpencodeConfig | None,
    defaults: Defaults | None,
    request: AgentRequest,
) -> str | None:
    if template is not None and template.agent_id:
        return template.agent_id
    return (
        request.start_mode
        or (defaults.start_mode if defaults else None)
        or (opencode.default_mode if opencode else None)
    )


def resolve_model(plan: AgentPlan, providers: Providers, configured: str | None) -> ModelRef:
    """The model the session runs: the plan's, its provider's default model, or (choosing
    nothing) OpenCode's configured `model`, else the first connected provider's default.
    UnknownModelError, naming the model and what is offered, when it is not offered."""
    available = providers.available()
    provider, model = plan.provider_id, plan.model_id
    if provider is None and model is not None:
        offering = [p for p, models in available.items() if model in models]
        if len(offering) != 1:
            raise UnknownModelError(ModelRef("(any provider)", model), available)
        provider = offering[0]
    if provider is None:
        if configured and "/" in configured:
            chosen = ModelRef(*configured.split("/", 1))
            providers.check(chosen)
            return chosen
        for candidate in providers.providers:
            default = providers.defaults.get(candidate.id)
            if default:
                return ModelRef(candidate.id, default)
        raise UnknownModelError(ModelRef("(default)", "(default)"), available)
    if model is None:
        model = providers.defaults.get(provider)
        if model is None:
            raise UnknownModelError(ModelRef(provider, "(its default)"), available)
    chosen = ModelRef(provider, model, plan.variant)
    providers.check(chosen)
    return chosen
