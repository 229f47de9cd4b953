"""Which agent, model and mode a cell gets: template, workspace defaults, request."""

from __future__ import annotations

from typing import Any

import pytest

from hive.agents.choice import AgentPlan, AgentRequest, plan_agent, resolve_model
from hive.agents.models import ModelRef, Providers, UnknownModelError
from hive.config.schema import AgentConfig, Defaults, OpencodeConfig
from hive.core.errors import InvalidInputError


def agent(**raw: Any) -> AgentConfig:
    return AgentConfig.model_validate(raw)


def plan(
    template: AgentConfig | None = None,
    opencode: OpencodeConfig | None = None,
    defaults: Defaults | None = None,
    request: AgentRequest | None = None,
    unavailable: str | None = None,
) -> AgentPlan:
    return plan_agent(
        template, opencode, defaults, request or AgentRequest(), opencode_unavailable=unavailable
    )


PROVIDERS = Providers.parse(
    {
        "providers": [
            {"id": "anthropic", "models": {"sonnet": {}, "opus": {}}},
            {"id": "openai", "models": {"gpt-5": {}}},
        ],
        "default": {"anthropic": "sonnet", "openai": "gpt-5"},
    }
)


def test_a_template_without_agent_gets_opencode_with_the_workspace_defaults() -> None:
    chosen = plan(
        opencode=OpencodeConfig.model_validate(
            {"defaultProvider": "anthropic", "defaultModel": "opus", "defaultMode": "plan"}
        )
    )
    assert chosen == AgentPlan("opencode", "anthropic", "opus", None, "plan")


def test_without_opencode_a_template_without_agent_gets_none_with_a_warning() -> None:
    chosen = plan(unavailable="OpenCode is not installed")
    assert chosen.kind == "none"
    assert chosen.warning == "no agent: OpenCode is not installed"


def test_hive_model_keys_all_work() -> None:
    nested = plan(agent(model={"providerId": "openai", "id": "gpt-5", "variant": "high"}))
    assert (nested.provider_id, nested.model_id, nested.variant) == ("openai", "gpt-5", "high")
    flat = plan(agent(providerId="openai", modelId="gpt-5", agentId="review"))
    assert (flat.provider_id, flat.model_id, flat.mode) == ("openai", "gpt-5", "review")
    provider_only = plan(agent(providerId="anthropic"))
    assert (provider_only.provider_id, provider_only.model_id) == ("anthropic", None)


def test_start_mode_request_over_defaults_over_opencode_default_mode() -> None:
    opencode = OpencodeConfig.model_validate({"defaultMode": "plan"})
    defaults = Defaults.model_validate({"startMode": "build"})
    assert plan(opencode=opencode).mode == "plan"
    assert plan(opencode=opencode, defaults=defaults).mode == "build"
    request = AgentRequest(start_mode="plan")
    assert plan(opencode=opencode, defaults=defaults, request=request).mode == "plan"


def test_a_request_model_overrides_the_template_one() -> None:
    template = agent(model={"providerId": "anthropic", "id": "opus", "variant": "max"})
    other = plan(template, request=AgentRequest("openai", "gpt-5"))
    assert (other.provider_id, other.model_id, other.variant) == ("openai", "gpt-5", None)
    # Another provider alone: its default model, not the template's model id.
    provider_only = plan(template, request=AgentRequest(provider_id="openai"))
    assert (provider_only.provider_id, provider_only.model_id) == ("openai", None)
    model_only = plan(template, request=AgentRequest(model_id="sonnet"))
    assert (model_only.provider_id, model_only.model_id) == ("anthropic", "sonnet")


def test_a_model_for_a_cell_without_an_agent_is_refused_naming_it() -> None:
    request = AgentRequest("openai", "gpt-5")
    with pytest.raises(InvalidInputError, match=r"model openai/gpt-5 cannot be used: its templ"):
        plan(agent(type="none"), request=request)
    with pytest.raises(InvalidInputError, match=r"openai/gpt-5 .*command agent"):
        plan(agent(type="command", run="claude"), request=request)
    with pytest.raises(InvalidInputError, match=r"openai/gpt-5 .*not installed"):
        plan(request=request, unavailable="OpenCode is not installed")


def test_a_command_agent_runs_its_command() -> None:
    assert plan(agent(type="command", run="aider")) == AgentPlan("command", run="aider")


def test_resolve_model_fills_defaults_and_checks_what_is_offered() -> None:
    assert resolve_model(AgentPlan("opencode", "anthropic"), PROVIDERS, None) == ModelRef(
        "anthropic", "sonnet"
    )
    assert resolve_model(AgentPlan("opencode", None, "gpt-5"), PROVIDERS, None) == ModelRef(
        "openai", "gpt-5"
    )
    assert resolve_model(AgentPlan("opencode"), PROVIDERS, "openai/gpt-5") == ModelRef(
        "openai", "gpt-5"
    )
    assert resolve_model(AgentPlan("opencode"), PROVIDERS, None) == ModelRef("anthropic", "sonnet")
    variant = AgentPlan("opencode", "anthropic", "opus", "max")
    assert resolve_model(variant, PROVIDERS, None) == ModelRef("anthropic", "opus", "max")


def test_an_unknown_model_names_it_and_lists_what_is_available() -> None:
    with pytest.raises(UnknownModelError) as caught:
        resolve_model(AgentPlan("opencode", "anthropic", "haiku"), PROVIDERS, None)
    message = caught.value.message
    assert "anthropic/haiku" in message
    assert "anthropic: opus, sonnet; openai: gpt-5" in message
    with pytest.raises(UnknownModelError, match="provider 'mistral' is not connected"):
        resolve_model(AgentPlan("opencode", "mistral", "large"), PROVIDERS, None)
    with pytest.raises(UnknownModelError, match="no providers"):
        resolve_model(AgentPlan("opencode"), Providers.parse({}), None)
