"""A cell's options: the request's values checked and completed with defaults, and the
template as a cell with them runs it: env, services and setup, with each added entry's
config path, everywhere the cell's environment is built."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hive.config.schema import SetupCommand, Template
from hive.core.errors import ConfigError, InvalidInputError
from hive.provisioning.environment import CellEnvironment, user_basics
from hive.provisioning.options import apply_options, choose_options
from tests.provisioning.test_environment import CELL, ENVIRON

TEMPLATE = Template.model_validate(
    {
        "id": "web",
        "env": {"MODE": "dev", "DATABASE_URL": "none"},
        "setup": ["npm ci"],
        "services": {
            "web": {"run": "serve"},
            "db": {"run": "postgres -p $PORT", "port": "7000-7099"},
        },
        "options": {
            "database": {
                "default": "sqlite",
                "choices": {
                    "postgres": {
                        "env": {"DATABASE_URL": "postgres://127.0.0.1:$PORT:db/app"},
                        "services": ["db"],
                        "setup": [{"run": "createdb -p $PORT:db app", "retries": 2}],
                    },
                    "sqlite": {"env": {"DATABASE_URL": "sqlite:///app.db"}},
                },
            },
            "cache": {"default": "off", "choices": {"off": {}, "on": {"env": {"CACHE": "1"}}}},
        },
    }
)


def test_defaults_fill_in_what_the_request_does_not_choose() -> None:
    assert choose_options(TEMPLATE, {}) == {"database": "sqlite", "cache": "off"}
    assert choose_options(TEMPLATE, {"cache": "on"}) == {"database": "sqlite", "cache": "on"}


@pytest.mark.parametrize(
    ("requested", "named"),
    [
        ({"databse": "postgres"}, ["options.databse: template 'web' has no option 'databse'"]),
        ({"database": "mysql"}, ["options.database: 'mysql' is not a choice (postgres, sqlite)"]),
        ({"x": "1", "cache": "maybe"}, ["options.x", "options.cache: 'maybe'"]),
    ],
)
def test_unknown_names_and_values_are_refused_naming_each(
    requested: dict[str, str], named: list[str]
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        choose_options(TEMPLATE, requested)
    assert all(part in raised.value.message for part in named), raised.value.message


def test_a_template_without_options_is_unchanged() -> None:
    plain = Template.model_validate({"id": "plain", "setup": ["x"]})
    applied, choices = apply_options(plain, None)
    assert applied is plain and dict(choices.chosen) == {}
    with pytest.raises(InvalidInputError):
        choose_options(plain, {"database": "postgres"})


def environment(options: dict[str, str] | None, ports: dict[str, int]) -> CellEnvironment:
    applied, choices = apply_options(TEMPLATE, options)
    cell = replace(CELL, options=options)
    return CellEnvironment(applied, cell, Path("/repo"), ports, user_basics(ENVIRON), 0.5, choices)


def test_a_choice_adds_env_services_and_setup_everywhere() -> None:
    env = environment({"database": "postgres", "cache": "on"}, {"db": 7001})
    assert list(env.template.services) == ["web", "db"]
    assert env.variables()["DATABASE_URL"] == "postgres://127.0.0.1:7001/app"
    assert env.variables()["CACHE"] == "1" and env.variables()["MODE"] == "dev"
    plan = env.plan()
    assert set(plan.services) == {"web", "db"}
    assert plan.services["web"].env["DATABASE_URL"] == "postgres://127.0.0.1:7001/app"
    assert env.setup_commands() == (
        SetupCommand(run="npm ci"),
        SetupCommand(run="createdb -p $PORT:db app", retries=2),
    )
    assert env.setup_command(1) == "createdb -p 7001 app"
    assert env.setup_path(0) == "templates.web.setup[0]"
    assert env.setup_path(1) == "templates.web.options.database.choices.postgres.setup[0]"
    assert env.cell_json()["options"] == {"database": "postgres", "cache": "on"}
    assert set(env.cell_json()["services"]) == {"web", "db"}


def test_the_default_choice_leaves_its_services_off() -> None:
    env = environment({"database": "sqlite", "cache": "off"}, {})
    assert set(env.plan().services) == {"web"}
    assert env.variables()["DATABASE_URL"] == "sqlite:///app.db"
    assert "CACHE" not in env.variables()
    assert env.setup_commands() == (SetupCommand(run="npm ci"),)


def test_a_cell_made_before_options_gets_the_defaults() -> None:
    env = environment(None, {})
    assert dict(env.choices.chosen) == {"database": "sqlite", "cache": "off"}
    assert set(env.plan().services) == {"web"}


def test_a_stored_value_no_longer_offered_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError) as raised:
        apply_options(TEMPLATE, {"database": "mysql"})
    assert raised.value.path == "templates.web.options.database"
    assert "database=mysql" in raised.value.message


def test_a_bad_port_reference_in_a_choice_names_the_choice() -> None:
    broken: dict[str, Any] = TEMPLATE.model_dump(by_alias=True)
    broken["options"]["database"]["choices"]["postgres"]["env"] = {"URL": "$PORT:web"}
    template = Template.model_validate(broken)
    applied, choices = apply_options(template, {"database": "postgres"})
    env = CellEnvironment(applied, CELL, Path("/repo"), {}, {}, 0.5, choices)
    with pytest.raises(ConfigError) as raised:
        env.variables()
    assert raised.value.path == "templates.web.options.database.choices.postgres.env.URL"
