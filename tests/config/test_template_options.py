"""A template's `requires` and `options`: their shape, and errors that name the field
path; a TypeScript Hive config, which has neither, loads as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hive.config import load_config
from hive.config.loader import _validate_template
from hive.config.schema import SetupCommand, setup_commands
from hive.config.template_options import enabled_services

DATA = Path(__file__).parent / "data"

DATABASE = {
    "label": "Database",
    "default": "sqlite",
    "choices": {
        "postgres": {
            "env": {"DATABASE_URL": "postgres://localhost/app"},
            "services": ["db"],
            "setup": ["createdb app", {"run": "migrate", "retries": 2}],
        },
        "sqlite": {"env": {"DATABASE_URL": "sqlite:///app.db"}},
    },
}
SERVICES = {"db": {"run": "postgres"}, "web": {"run": "serve"}}


def errors_of(raw: dict[str, Any]) -> list[str]:
    return [str(e) for e in _validate_template("web", raw).errors]


def test_requires_and_options_load() -> None:
    raw = {
        "description": "A web app with a choice of database",
        "requires": {"commands": ["node", "/usr/bin/env"], "files": ["package.json"],
                     "env": ["OPENAI_API_KEY"]},
        "services": SERVICES,
        "options": {"database": DATABASE},
    }  # fmt: skip
    entry = _validate_template("web", raw)
    assert entry.valid and entry.template is not None, entry.errors
    template = entry.template
    assert template.requires is not None
    assert template.requires.commands == ["node", "/usr/bin/env"]
    assert template.requires.files == ["package.json"]
    assert template.requires.env == ["OPENAI_API_KEY"]
    option = template.options["database"]
    assert option.label == "Database" and option.default == "sqlite"
    postgres = option.choices["postgres"]
    assert postgres.services == ["db"]
    assert setup_commands(postgres.setup) == (
        SetupCommand(run="createdb app"),
        SetupCommand(run="migrate", retries=2),
    )


def test_a_typescript_hive_config_still_loads_without_them() -> None:
    config = load_config(DATA / "full.hive.config.json")
    assert config.errors == [] and config.warnings == []
    for entry in config.templates.values():
        assert entry.valid and entry.template is not None
        assert entry.template.requires is None and entry.template.options == {}


def one(choice: dict[str, Any]) -> dict[str, Any]:
    """An option `database` with the single choice `a`."""
    return {"database": {"default": "a", "choices": {"a": choice}}}


OPTION = "templates.web.options.database"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"database": {**DATABASE, "default": "mysql"}},
            f"{OPTION}.default: 'mysql' is not one of the choices (postgres, sqlite)",
        ),
        (
            one({"services": ["web", "cache"]}),
            f"{OPTION}.choices.a.services[1]: unknown service 'cache' (services: db, web)",
        ),
        (one({"setup": ["ok", 7]}), f"{OPTION}.choices.a.setup[1]: Setup command should be"),
        (one({"setup": [{"run": "x", "retries": "2"}]}), f"{OPTION}.choices.a.setup[0].retries: "),
        (
            {"database": {"default": "a", "choices": {}}},
            f"{OPTION}.choices: Dictionary should have at least 1 item",
        ),
        ({"database": {"choices": {"a": {}}}}, f"{OPTION}.default: Field required"),
        (one({"env": {"X": 1}}), f"{OPTION}.choices.a.env.X: Input should be a valid string"),
        (
            {"two words": {"default": "a", "choices": {"a": {}}}},
            'templates.web.options["two words"]: invalid key: ',
        ),
        (
            {"database": {"default": "a", "choices": {"a b": {}}}},
            f'{OPTION}.choices["a b"]: invalid key: ',
        ),
        ({"database": "sqlite"}, f"{OPTION}: Input should be a valid dictionary"),
    ],
)
def test_a_broken_options_block_names_the_field(options: dict[str, Any], expected: str) -> None:
    errors = errors_of({"services": SERVICES, "options": options})
    assert len(errors) == 1 and errors[0].startswith(expected), errors


@pytest.mark.parametrize(
    ("requires", "expected"),
    [
        ({"commands": ["./bin/tool"]}, "templates.web.requires.commands[0]: "),
        ({"commands": [""]}, "templates.web.requires.commands[0]: "),
        ({"commands": "node"}, "templates.web.requires.commands: Input should be a list"),
        ({"files": ["../outside"]}, "templates.web.requires.files[0]: "),
        ({"files": ["/etc/passwd"]}, "templates.web.requires.files[0]: "),
        ({"env": ["API-KEY"]}, "templates.web.requires.env[0]: "),
        ({"env": [1]}, "templates.web.requires.env[0]: Input should be a valid string"),
    ],
)
def test_a_broken_requires_block_names_the_field(requires: dict[str, Any], expected: str) -> None:
    errors = errors_of({"requires": requires})
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_unknown_keys_inside_options_are_warnings() -> None:
    raw = {"options": {"db": {"default": "a", "choices": {"a": {"enviro": {}}}, "help": "x"}}}
    entry = _validate_template("web", raw)
    assert entry.valid
    assert [str(w) for w in entry.warnings] == [
        "templates.web.options.db.choices.a.enviro: unknown key, ignored",
        "templates.web.options.db.help: unknown key, ignored",
    ]


def test_a_service_cannot_depend_on_one_that_may_be_off() -> None:
    services = {"db": {"run": "postgres"}, "web": {"run": "serve", "dependsOn": ["db"]}}
    [error] = errors_of({"services": services, "options": {"database": DATABASE}})
    assert error.startswith("templates.web.services.web.dependsOn: 'web' runs always, but 'db' ")
    assert "database=postgres" in error


def test_a_dependency_on_the_same_choice_is_fine() -> None:
    services = {"db": {"run": "postgres"}, "api": {"run": "serve", "dependsOn": ["db"]}}
    option = {"default": "lite", "choices": {"pg": {"services": ["db", "api"]}, "lite": {}}}
    assert errors_of({"services": services, "options": {"database": option}}) == []


def test_a_service_under_every_choice_of_an_option_always_runs() -> None:
    services = {"db": {"run": "x"}, "web": {"run": "serve", "dependsOn": ["db"]}}
    option = {"default": "a", "choices": {"a": {"services": ["db"]}, "b": {"services": ["db"]}}}
    assert errors_of({"services": services, "options": {"store": option}}) == []


def test_enabled_services_follow_the_choices() -> None:
    entry = _validate_template("web", {"services": SERVICES, "options": {"database": DATABASE}})
    assert entry.template is not None
    options = entry.template.options
    assert enabled_services(SERVICES, options, {"database": "postgres"}) == ["db", "web"]
    assert enabled_services(SERVICES, options, {"database": "sqlite"}) == ["web"]


def test_the_json_schema_describes_them() -> None:
    from hive.config import config_json_schema

    schema = config_json_schema()
    template = schema["$defs"]["Template"]["properties"]
    assert template["requires"]["$ref"] == "#/$defs/Requirements"
    assert "TemplateOption" in json.dumps(template["options"])
    assert schema["$defs"]["TemplateOption"]["required"] == ["choices", "default"]
    assert set(schema["$defs"]["OptionChoice"]["properties"]) == {"env", "services", "setup"}


def test_the_exported_schema_accepts_them_and_flags_typos() -> None:
    from tests.config.test_export import _validator

    validator = _validator()
    requires = {"commands": ["node"], "files": ["a"], "env": ["A"]}
    good = {"services": SERVICES, "options": {"database": DATABASE}, "requires": requires}
    assert validator.is_valid({"templates": {"web": good}})
    for bad in (
        {"requires": {"commands": "node"}},
        {"requires": {"programs": ["node"]}},
        {"options": {"database": {"default": "a", "choices": {"a": {"envv": {}}}}}},
        {"options": {"database": {"choices": {"a": {}}}}},
    ):
        assert not validator.is_valid({"templates": {"web": bad}}), bad
