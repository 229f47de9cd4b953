from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hive.config import config_json_schema

DATA = Path(__file__).parent / "data"


def test_schema_header_and_content() -> None:
    schema = config_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert schema["title"] == "HiveConfig"
    assert "templates" in schema["properties"]
    assert "readyTimeoutMs" in json.dumps(schema)
    process = schema["$defs"]["ProcessService"]["properties"]
    assert process["readyTimeoutMs"]["type"] == "number"
    assert process["readyTimeoutMs"]["description"]
    json.dumps(schema)  # plain JSON, nothing Python-only


def test_template_id_is_not_required_in_the_schema() -> None:
    template = config_json_schema()["$defs"]["Template"]
    assert "id" not in template.get("required", [])


def _validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = config_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_exported_schema_accepts_the_full_config() -> None:
    document = json.loads((DATA / "full.hive.config.json").read_text())
    _validator().validate(document)


def test_exported_schema_rejects_what_the_loader_rejects() -> None:
    validator = _validator()
    bad = {"templates": {"web": {"services": {"api": {"run": "x", "readyTimeoutMs": "soon"}}}}}
    assert not validator.is_valid(bad)
    assert validator.is_valid({"templates": {"web": {"services": {"api": {"run": "x"}}}}})


def test_schema_keeps_unknown_keys_out_so_editors_flag_typos() -> None:
    # The loader only warns about unknown keys; editors should still underline them.
    schema = config_json_schema()
    models = [schema, *schema["$defs"].values()]
    objects = [m for m in models if m.get("type") == "object" and "properties" in m]
    assert {m.get("title") for m in objects} >= {"HiveConfig", "Template", "ProcessService"}
    assert all(m.get("additionalProperties") is False for m in objects)

    validator = _validator()
    service = {"run": "x"}
    assert validator.is_valid({"templates": {"web": {"services": {"api": service}}}})
    for typo in (
        {"templates": {"web": {"servces": {}}}},
        {"templates": {"web": {"services": {"api": {**service, "healthcheck": "/"}}}}},
        {"templates": {"web": {}}, "colour": "blue"},
    ):
        assert not validator.is_valid(typo), typo
