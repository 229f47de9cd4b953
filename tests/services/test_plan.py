"""The pure start plan: order, environment, `$PORT` resolution."""

from __future__ import annotations

from typing import Any

import pytest

from hive.config.schema import Template
from hive.core.errors import ConfigError
from hive.services.plan import build_plan, resolve_ports


def template(services: dict[str, Any], **extra: Any) -> Template:
    return Template.model_validate({"id": "t", "services": services, **extra})


PORTS = {"db": 7001, "api": 7002}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("serve --port $PORT", "serve --port 7002"),
        ("postgres://x:$PORT:db/app", "postgres://x:7001/app"),
        ("-p $PORT:5432", "-p 7002:5432"),  # not a service: own port, then :5432
        ("$PORT:dbx", "7002:dbx"),  # a longer word is not the service `db`
        ("$PORTS and ${PORT}", "$PORTS and ${PORT}"),  # other words, shell syntax: left
        ("$PORT:api$PORT:db", "70027001"),
    ],
)
def test_port_references_on_word_boundaries(text: str, expected: str) -> None:
    assert resolve_ports(text, 7002, PORTS, "x", services=["db", "api"]) == expected


def test_bare_port_without_owner() -> None:
    assert resolve_ports("$PORT", None, PORTS, "x", template_level=True) == "$PORT"
    with pytest.raises(ConfigError, match="has no port"):
        resolve_ports("$PORT", None, PORTS, "services.job.run")
    with pytest.raises(ConfigError, match="without a port"):
        resolve_ports("$PORT:job", None, PORTS, "x", services=["job"])


def test_plan_environment_and_order() -> None:
    plan = build_plan(
        template(
            {
                "db": {"run": "db --port $PORT", "ready": {"command": "check $PORT"}},
                "api": {"run": "api", "dependsOn": ["db"], "env": {"DB": "$PORT:db"}},
            },
            env={"MODE": "dev", "SELF": "http://x:$PORT"},
        ),
        PORTS,
        base_env={"PATH": "/bin", "MODE": "dev", "SELF": "http://x:$PORT"},
        cell_env={"HIVE_CELL_ID": "c1"},
        start_grace_s=1,
    )
    assert plan.levels == [["db"], ["api"]]
    api = plan.services["api"]
    assert api.env["DB"] == "7001" and api.env["SELF"] == "http://x:7002"
    assert api.env["PORT"] == api.env["SERVICE_PORT"] == "7002"
    assert api.env["DB_PORT"] == "7001" and api.env["DB_URL"] == "http://127.0.0.1:7001"
    assert api.env["HIVE_SERVICE"] == "api" and api.env["HIVE_CELL_ID"] == "c1"
    assert plan.services["db"].run == "db --port 7001"
    ready = plan.services["db"].readiness
    assert (ready.kind, ready.target) == ("command", "check 7001")


def test_cwd_may_not_leave_the_worktree() -> None:
    with pytest.raises(ConfigError, match="leaves the worktree"):
        build_plan(
            template({"x": {"run": "true", "cwd": "../elsewhere"}}),
            {"x": 7000},
            base_env={},
            cell_env={},
            start_grace_s=1,
        )
