from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hive.config import (
    AgentConfig,
    ComposeService,
    DockerService,
    HiveConfig,
    ProcessService,
    Template,
)


def test_service_without_type_is_a_process() -> None:
    template = Template.model_validate({"id": "web", "services": {"api": {"run": "make"}}})
    service = template.services["api"]
    assert isinstance(service, ProcessService)
    assert service.type == "process"
    assert service.supported


def test_docker_and_compose_load_but_are_unsupported() -> None:
    template = Template.model_validate(
        {
            "id": "t",
            "services": {
                "db": {"type": "docker", "image": "postgres"},
                "stack": {"type": "compose", "file": "compose.yml"},
            },
        }
    )
    assert isinstance(template.services["db"], DockerService)
    assert isinstance(template.services["stack"], ComposeService)
    assert not any(s.supported for s in template.services.values())


@pytest.mark.parametrize("value", [5000, 2500.5, 0])
def test_ready_timeout_accepts_json_numbers(value: float) -> None:
    service = ProcessService.model_validate({"run": "x", "readyTimeoutMs": value})
    assert service.ready_timeout_ms == value


@pytest.mark.parametrize("value", ["soon", "5000", True, float("nan")])
def test_ready_timeout_rejects_non_numbers(value: object) -> None:
    with pytest.raises(ValidationError):
        ProcessService.model_validate({"run": "x", "readyTimeoutMs": value})


def test_unknown_service_type_is_an_error() -> None:
    with pytest.raises(ValidationError, match="Service type should be"):
        Template.model_validate({"id": "t", "services": {"x": {"type": "k8s"}}})


def test_snake_case_names_are_accepted_too() -> None:
    service = ProcessService(run="x", ready_timeout_ms=10)
    assert service.model_dump(by_alias=True)["readyTimeoutMs"] == 10


def test_template_id_and_label_default_from_key() -> None:
    config = HiveConfig.model_validate({"templates": {"web": {}, "api": {"label": "API"}}})
    assert (config.templates["web"].id, config.templates["web"].label) == ("web", "web")
    assert (config.templates["api"].id, config.templates["api"].label) == ("api", "API")
    assert config.prompt_sources == []


@pytest.mark.parametrize("field", ["includePatterns", "ignorePatterns"])
def test_blank_patterns_load_as_hive_allows_them(field: str) -> None:
    template = Template.model_validate({"id": "t", field: ["ok", ""]})
    assert getattr(
        template, "include_patterns" if field == "includePatterns" else "ignore_patterns"
    ) == ["ok", ""]


@pytest.mark.parametrize("field", ["includePatterns", "ignorePatterns"])
def test_patterns_leaving_the_repository_are_errors(field: str) -> None:
    with pytest.raises(ValidationError, match="outside the repository"):
        Template.model_validate({"id": "t", field: ["ok", "../x"]})


def test_empty_service_name_is_an_error() -> None:
    with pytest.raises(ValidationError):
        Template.model_validate({"id": "t", "services": {"": {"run": "x"}}})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "command"}, "needs `run`"),
        ({"type": "opencode", "run": "claude"}, "`run` is only for `type: command`"),
        ({"run": "claude"}, "`run` is only for `type: command`"),
        ({"type": "command", "run": "x", "model": {"providerId": "a", "id": "b"}}, "its `run`"),
        ({"type": "none", "providerId": "a"}, "takes no model"),
        ({"type": "claude"}, "opencode"),
    ],
)
def test_agent_type_and_run_must_fit(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AgentConfig.model_validate(raw)


def test_agent_kind_reads_hive_configs_as_opencode() -> None:
    assert AgentConfig.model_validate({"model": {"providerId": "a", "id": "b"}}).kind == "opencode"
    assert AgentConfig.model_validate({"type": "command", "run": "aider"}).kind == "command"
