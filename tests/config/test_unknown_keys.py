"""Keys from other versions of Hive are warnings; known keys with wrong values are errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from hive.config import FieldError, Template, TemplateEntry, load_config
from hive.config.unknown_keys import UNKNOWN_KEY, without_keys

DATA = Path(__file__).parent / "data"


def load_template(tmp_path: Path, template: dict[str, Any], **top: Any) -> TemplateEntry:
    path = tmp_path / "hive.config.json"
    path.write_text(json.dumps({"templates": {"web": template}, **top}))
    entry = load_config(path).template("web")
    assert entry is not None
    return entry


def paths(problems: list[FieldError]) -> list[str]:
    return [p.path for p in problems]


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ({"colour": "blue"}, "templates.web.colour"),
        (
            {"services": {"api": {"run": "serve", "healthcheck": {"path": "/"}}}},
            "templates.web.services.api.healthcheck",
        ),
        (
            {"services": {"api": {"type": "process", "run": "serve", "process": 1}}},
            "templates.web.services.api.process",
        ),
        (
            {"services": {"db": {"type": "docker", "image": "postgres", "restart": "always"}}},
            "templates.web.services.db.restart",
        ),
        (
            {"services": {"stack": {"type": "compose", "file": "c.yml", "profiles": ["a"]}}},
            "templates.web.services.stack.profiles",
        ),
        (
            {"services": {"api": {"run": "serve", "ready": {"http": "/health", "retries": 3}}}},
            "templates.web.services.api.ready.retries",
        ),
        ({"agent": {"agentId": "plan", "temperature": 0.2}}, "templates.web.agent.temperature"),
        (
            {"agent": {"model": {"providerId": "anthropic", "id": "claude", "tier": "x"}}},
            "templates.web.agent.model.tier",
        ),
    ],
)
def test_unknown_key_in_a_template_is_a_warning_and_the_template_valid(
    tmp_path: Path, template: dict[str, Any], path: str
) -> None:
    entry = load_template(tmp_path, template)
    assert entry.errors == []
    assert entry.valid and entry.template is not None
    assert entry.warnings == [FieldError(path, UNKNOWN_KEY)]


def test_the_template_is_the_same_as_without_the_unknown_keys(tmp_path: Path) -> None:
    known: dict[str, Any] = {
        "label": "Web",
        "setup": ["npm ci"],
        "services": {"api": {"run": "serve", "ready": {"http": "/health"}}},
        "agent": {"model": {"providerId": "anthropic", "id": "claude"}},
    }
    extended = copy.deepcopy(known)
    extended["future"] = {"nested": True}
    extended["services"]["api"]["healthcheck"] = "/"
    extended["services"]["api"]["ready"]["retries"] = 3
    extended["agent"]["model"]["tier"] = "fast"

    entry = load_template(tmp_path, extended)

    assert entry.template == Template.model_validate({"id": "web", **known})
    assert entry.raw == extended  # the file as written, for the API of an invalid template
    assert sorted(paths(entry.warnings)) == [
        "templates.web.agent.model.tier",
        "templates.web.future",
        "templates.web.services.api.healthcheck",
        "templates.web.services.api.ready.retries",
    ]


def test_unknown_and_wrong_keys_make_an_invalid_template_listing_both(tmp_path: Path) -> None:
    entry = load_template(
        tmp_path,
        {
            "colour": "blue",
            "setup": ["npm ci", 1],
            "services": {"api": {"run": "serve", "healthcheck": "/", "readyTimeoutMs": "soon"}},
        },
    )
    assert not entry.valid and entry.template is None
    assert sorted(paths(entry.errors)) == [
        "templates.web.services.api.readyTimeoutMs",
        "templates.web.setup[1]",
    ]
    assert sorted(paths(entry.warnings)) == [
        "templates.web.colour",
        "templates.web.services.api.healthcheck",
    ]


def test_checks_across_fields_still_run_once_unknown_keys_are_dropped(tmp_path: Path) -> None:
    # The dependency check runs only when every field is valid: after the second pass.
    entry = load_template(
        tmp_path, {"services": {"api": {"run": "serve", "dependsOn": ["db"], "x": 1}}}
    )
    assert not entry.valid
    assert paths(entry.warnings) == ["templates.web.services.api.x"]
    [error] = entry.errors
    assert "db" in error.message


def test_unknown_keys_outside_the_templates_are_top_level_warnings(tmp_path: Path) -> None:
    path = tmp_path / "hive.config.json"
    document = {
        "foo": 1,
        "opencode": {"defaultMode": "build", "bar": True},
        "defaults": {"templateId": "web", "baz": "x"},
        "templates": {"web": {}},
    }
    path.write_text(json.dumps(document))
    config = load_config(path)

    assert config.errors == []
    assert [str(w) for w in config.warnings] == [
        f"foo: {UNKNOWN_KEY}",
        f"opencode.bar: {UNKNOWN_KEY}",
        f"defaults.baz: {UNKNOWN_KEY}",
    ]
    assert config.opencode is not None and config.opencode.default_mode == "build"
    assert config.defaults is not None and config.defaults.template_id == "web"
    web = config.template("web")
    assert web is not None and web.valid and web.warnings == []
    assert config.all_warnings() == config.warnings


def test_all_warnings_lists_top_level_then_templates(tmp_path: Path) -> None:
    path = tmp_path / "hive.config.json"
    path.write_text(json.dumps({"foo": 1, "templates": {"a": {"x": 1}, "b": {"y": 2}}}))
    assert paths(load_config(path).all_warnings()) == ["foo", "templates.a.x", "templates.b.y"]


def test_a_string_setup_is_an_error_saying_how_to_write_it(tmp_path: Path) -> None:
    # The TypeScript Hive's schema also wants an array of strings here.
    entry = load_template(tmp_path, {"setup": "npm ci"})
    service = load_template(tmp_path, {"services": {"api": {"run": "x", "setup": "make"}}})
    assert [str(e) for e in entry.errors] == [
        'templates.web.setup: Input should be a list, not a string: write ["npm ci"] for one entry'
    ]
    assert paths(service.errors) == ["templates.web.services.api.setup"]
    assert '["make"]' in service.errors[0].message


def test_the_full_reference_config_has_no_warnings() -> None:
    assert load_config(DATA / "full.hive.config.json").all_warnings() == []


def test_without_keys_copies_only_the_way_to_a_removed_key() -> None:
    document: dict[str, Any] = {"a": {"b": 1, "c": 2}, "d": [{"e": 1, "f": 2}], "g": {"h": 3}}
    before = copy.deepcopy(document)

    result, removed = without_keys(document, [("a", "b"), ("d", 0, "f"), ("missing",), ()])

    assert result == {"a": {"c": 2}, "d": [{"e": 1}], "g": {"h": 3}}
    assert removed == [("a", "b"), ("d", 0, "f")]
    assert document == before
    assert result["g"] is document["g"]
