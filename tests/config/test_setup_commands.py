"""Setup commands as strings (the TypeScript Hive's form) or objects with retries, and
the template's `setupTimeoutMs`."""

from __future__ import annotations

from typing import Any

import pytest

from hive.config.loader import _validate_template
from hive.config.schema import SetupCommand, setup_commands


def errors_of(raw: dict[str, Any]) -> list[str]:
    return [str(e) for e in _validate_template("web", raw).errors]


def test_strings_and_objects_mix_and_strings_stay_strings() -> None:
    entry = _validate_template(
        "web", {"setup": ["npm ci", {"run": "npm test", "retries": 2, "retryDelayMs": 2000}]}
    )
    assert entry.valid and entry.template is not None
    assert entry.template.setup[0] == "npm ci"
    assert setup_commands(entry.template.setup) == (
        SetupCommand(run="npm ci"),
        SetupCommand(run="npm test", retries=2, retry_delay_ms=2000),
    )
    dumped = entry.template.model_dump(by_alias=True, exclude_none=True)
    assert dumped["setup"][0] == "npm ci" and dumped["setup"][1]["retryDelayMs"] == 2000


def test_service_setup_takes_objects_too() -> None:
    raw = {"services": {"api": {"run": "x", "setup": [{"run": "y", "retries": 1}]}}}
    entry = _validate_template("web", raw)
    assert entry.valid, entry.errors


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"setup": ["a", {"run": "b", "retries": -1}]}, "templates.web.setup[1].retries: "),
        ({"setup": [{"run": "b", "retries": "2"}]}, "templates.web.setup[0].retries: "),
        ({"setup": [{"run": "b", "retryDelayMs": True}]}, "templates.web.setup[0].retryDelayMs"),
        ({"setup": [{"retries": 1}]}, "templates.web.setup[0].run: Field required"),
        ({"setup": [{"run": ""}]}, "templates.web.setup[0].run: "),
        ({"setup": [7]}, "templates.web.setup[0]: Setup command should be a string or an"),
        (
            {"services": {"api": {"run": "x", "setup": [{"run": "y", "retries": 99}]}}},
            "templates.web.services.api.setup[0].retries: ",
        ),
        ({"setupTimeoutMs": 0}, "templates.web.setupTimeoutMs: "),
        ({"setupTimeoutMs": "5000"}, "templates.web.setupTimeoutMs: "),
    ],
)
def test_errors_name_the_field(raw: dict[str, Any], expected: str) -> None:
    [error] = errors_of(raw)
    assert error.startswith(expected), error


def test_an_unknown_key_in_a_command_object_is_a_warning() -> None:
    entry = _validate_template("web", {"setup": [{"run": "x", "retry": 3}]})
    assert entry.valid
    assert [str(w) for w in entry.warnings] == [
        "templates.web.setup[0].retry: unknown key, ignored"
    ]
