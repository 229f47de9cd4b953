from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hive.config import (
    CONFIG_FILENAMES,
    ComposeService,
    DockerService,
    FieldError,
    ProcessService,
    find_config_file,
    load_config,
    load_workspace_config,
)
from hive.core.errors import ConfigError

DATA = Path(__file__).parent / "data"


def write(root: Path, document: Any, name: str = "hive.config.json") -> Path:
    path = root / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def paths(errors: list[FieldError]) -> list[str]:
    return [e.path for e in errors]


def test_full_reference_config_loads_with_every_template_valid() -> None:
    config = load_config(DATA / "full.hive.config.json")

    assert config.errors == []
    assert all(entry.valid and not entry.errors for entry in config.templates.values())
    assert set(config.templates) == {"web", "legacy"}
    assert config.opencode is not None and config.opencode.default_mode == "plan"
    assert config.defaults is not None and config.defaults.template_id == "web"
    assert config.prompt_sources == ["docs/prompts/**/*.md", "AGENTS.md"]

    web = config.template("web")
    assert web is not None and web.template is not None
    services = web.template.services
    assert isinstance(services["api"], ProcessService)
    assert services["api"].ready_timeout_ms == 15000
    assert isinstance(services["db"], DockerService)
    assert isinstance(services["stack"], ComposeService)
    assert web.template.agent is not None and web.template.agent.model is not None
    assert web.template.agent.model.provider_id == "anthropic"
    assert web.template.teardown == ["bun run clean"]
    assert web.raw["label"] == "Web app"

    legacy = config.template("legacy")
    assert legacy is not None and legacy.template is not None
    agent = legacy.template.agent
    assert agent is not None
    assert (agent.provider_id, agent.model_id, agent.agent_id) == ("openai", "gpt-5", "plan")
    assert [t.id for t in config.valid_templates()] == ["web", "legacy"]


def test_reference_schema_accepts_the_full_config() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((DATA / "hive.config.schema.reference.json").read_text())
    document = json.loads((DATA / "full.hive.config.json").read_text())
    jsonschema.Draft7Validator(schema).validate(document)


def test_broken_template_does_not_break_the_others(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "templates": {
                "web": {"services": {"api": {"run": "x", "readyTimeoutMs": "soon"}}},
                "ok": {"services": {"api": {"run": "x", "readyTimeoutMs": 100}}},
            }
        },
    )
    config = load_config(path)

    web = config.template("web")
    assert web is not None and not web.valid and web.template is None
    assert paths(web.errors) == ["templates.web.services.api.readyTimeoutMs"]
    assert "number" in web.errors[0].message
    assert web.raw["services"]["api"]["readyTimeoutMs"] == "soon"

    ok = config.template("ok")
    assert ok is not None and ok.valid and ok.template is not None
    assert [t.id for t in config.valid_templates()] == ["ok"]
    assert config.errors == []
    assert config.all_errors() == web.errors


def test_unknown_template_key_is_a_warning_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, {"templates": {"web": {"label": "Web", "servces": {}}}})
    web = load_config(path).template("web")
    assert web is not None and web.valid and web.errors == []
    assert [str(w) for w in web.warnings] == ["templates.web.servces: unknown key, ignored"]


def test_error_paths_use_json_keys_and_list_indexes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "templates": {
                "web": {
                    "setup": ["ok", 1],
                    "services": {"api": {"cwd": "."}, "db": {"type": "docker"}},
                    "includePatterns": ["", "../out"],
                }
            }
        },
    )
    web = load_config(path).template("web")
    assert web is not None
    assert sorted(paths(web.errors)) == [
        "templates.web.includePatterns[1]",
        "templates.web.services.api.run",
        "templates.web.services.db.image",
        "templates.web.setup[1]",
    ]


def test_odd_keys_are_quoted_in_paths(tmp_path: Path) -> None:
    path = write(tmp_path, {"templates": {"a.b": {"services": {"": {"run": "x"}}}}})
    entry = load_config(path).template("a.b")
    assert entry is not None
    assert [str(e) for e in entry.errors] == [
        'templates["a.b"].services[""]: invalid key: String should have at least 1 character'
    ]


def test_service_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, {"templates": {"web": {"services": {"api": "npm start"}}}})
    web = load_config(path).template("web")
    assert web is not None
    assert paths(web.errors) == ["templates.web.services.api"]


def test_missing_service_type_defaults_to_process(tmp_path: Path) -> None:
    path = write(tmp_path, {"templates": {"web": {"services": {"api": {"run": "x"}}}}})
    web = load_config(path).template("web")
    assert web is not None and web.template is not None
    assert isinstance(web.template.services["api"], ProcessService)


def test_template_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, {"templates": {"web": 5, "ok": {}}})
    config = load_config(path)
    web = config.template("web")
    assert web is not None and not web.valid and web.raw == {}
    assert paths(web.errors) == ["templates.web"]
    assert [t.id for t in config.valid_templates()] == ["ok"]


def test_top_level_errors_do_not_stop_templates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "promptSources": "docs/*.md",
            "opencode": {"defaultMode": "yolo"},
            "defaults": {"startMode": "plan", "extra": 1},
            "colour": "blue",
            "templates": {"web": {}},
        },
    )
    config = load_config(path)
    assert sorted(paths(config.errors)) == ["opencode.defaultMode", "promptSources"]
    assert sorted(paths(config.warnings)) == ["colour", "defaults.extra"]
    assert config.prompt_sources == []
    assert config.opencode is None
    # An unknown key costs only itself: the rest of `defaults` still applies.
    assert config.defaults is not None and config.defaults.start_mode == "plan"
    assert [t.id for t in config.valid_templates()] == ["web"]


def test_default_template_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, {"templates": {"web": {}}, "defaults": {"templateId": "api"}})
    config = load_config(path)
    assert paths(config.errors) == ["defaults.templateId"]
    assert "'api'" in config.errors[0].message


@pytest.mark.parametrize(
    ("document", "needle", "field"),
    [
        ("[]", "JSON object", None),
        ("{}", "templates", "templates"),
        ('{"templates": []}', "templates", "templates"),
    ],
)
def test_unusable_documents_raise(
    tmp_path: Path, document: str, needle: str, field: str | None
) -> None:
    path = write(tmp_path, document)
    with pytest.raises(ConfigError, match=needle) as caught:
        load_config(path)
    assert caught.value.file == str(path)
    assert caught.value.path == field


def test_jsonc_content_loads_from_any_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  // c\n  "templates": {"web": {},},\n}\n')
    assert load_config(path).template("web") is not None


def test_invalid_json_in_file_reports_position(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "templates": {\n    "web": {,}\n  }\n}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), 3, 13)


def test_unreadable_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.json")
    assert caught.value.hint


def test_find_prefers_json_over_jsonc(tmp_path: Path) -> None:
    assert find_config_file(tmp_path) is None
    write(tmp_path, "{}", name="hive.config.jsonc")
    assert find_config_file(tmp_path) == tmp_path / "hive.config.jsonc"
    write(tmp_path, "{}")
    assert find_config_file(tmp_path) == tmp_path / "hive.config.json"


def test_missing_config_file_raises_with_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_workspace_config(tmp_path)
    assert caught.value.hint is not None
    assert caught.value.hint.startswith(f"create {CONFIG_FILENAMES[0]}")


def test_load_workspace_config_reads_jsonc(tmp_path: Path) -> None:
    write(tmp_path, '{"templates": {"web": {}}, /* ok */}', name="hive.config.jsonc")
    config = load_workspace_config(tmp_path)
    assert config.file == tmp_path / "hive.config.jsonc"
    assert config.mtime_ns == config.file.stat().st_mtime_ns


def test_include_patterns_leaving_the_repository_make_the_template_invalid(
    tmp_path: Path,
) -> None:

    path = tmp_path / "hive.config.json"
    path.write_text(
        json.dumps(
            {
                "promptSources": [],
                "templates": {
                    "leaky": {"includePatterns": ["./.env", "../secrets/*"]},
                    "fine": {"includePatterns": ["./.env*"]},
                },
            }
        )
    )
    config = load_config(path)
    leaky = config.templates["leaky"]
    assert not leaky.valid
    [error] = leaky.errors
    assert error.path == "templates.leaky.includePatterns[1]"
    assert "'../secrets/*'" in error.message and "outside the repository" in error.message
    assert config.templates["fine"].valid
