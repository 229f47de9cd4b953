"""Find, read and validate a workspace's `hive.config.json`, template by template.

One broken template must not take the others down: each is validated on its own and
reported as a `TemplateEntry`; problems outside `templates` are collected on the
`WorkspaceConfig` and never stop the templates from loading. Keys the model does not
know (from other versions of Hive, or typos) are warnings and are ignored; known keys
with wrong values are errors. Only a file that cannot be read, parsed, or has no
`templates` object raises `ConfigError`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hive.config.jsonc import parse_jsonc
from hive.config.schema import (
    SERVICE_TYPES,
    SETUP_FORMS,
    Defaults,
    HiveConfig,
    OpencodeConfig,
    Template,
    with_template_id,
)
from hive.config.unknown_keys import UNKNOWN_KEY, Location, Problem, validate_lenient
from hive.core.errors import ConfigError

CONFIG_FILENAMES = ("hive.config.json", "hive.config.jsonc")

_EXAMPLE = (
    '{"promptSources": [], "templates": '
    '{"default": {"id": "default", "label": "Default", "type": "manual"}}}'
)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem (an error or a warning); `path` uses the JSON keys, e.g.
    `templates.web.setup[1]`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class TemplateEntry:
    """A template as found in the file: `template` is set exactly when `valid`.

    `warnings` name the unknown keys, which `template` does without; `raw` keeps them.
    """

    id: str
    valid: bool
    template: Template | None
    raw: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WorkspaceConfig:
    """A loaded config file. `errors` and `warnings` hold problems outside any one
    template (e.g. an unknown top-level key)."""

    file: Path
    mtime_ns: int
    templates: dict[str, TemplateEntry]
    defaults: Defaults | None
    opencode: OpencodeConfig | None
    prompt_sources: list[str]
    base_prompt: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)

    def template(self, id: str) -> TemplateEntry | None:
        return self.templates.get(id)

    def valid_templates(self) -> list[Template]:
        return [e.template for e in self.templates.values() if e.template is not None]

    def all_errors(self) -> list[FieldError]:
        """Top-level errors followed by every template's, in file order."""
        errors = list(self.errors)
        for entry in self.templates.values():
            errors.extend(entry.errors)
        return errors

    def all_warnings(self) -> list[FieldError]:
        """Top-level warnings followed by every template's, in file order."""
        warnings = list(self.warnings)
        for entry in self.templates.values():
            warnings.extend(entry.warnings)
        return warnings


def find_config_file(root: Path) -> Path | None:
    """The config file in `root`, `hive.config.json` winning over `.jsonc`."""
    for name in CONFIG_FILENAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def load_workspace_config(root: Path) -> WorkspaceConfig:
    """Load the config file at the root of the repository `root`."""
    path = find_config_file(root)
    if path is None:
        raise ConfigError(
            f"no {' or '.join(CONFIG_FILENAMES)} in {root}",
            file=str(root / CONFIG_FILENAMES[0]),
            hint=f"create {CONFIG_FILENAMES[0]} in the repository root, e.g. {_EXAMPLE}",
        )
    return load_config(path)


def load_config(path: Path) -> WorkspaceConfig:
    """Read and validate one config file. Blocking: run it in a thread from async code."""
    mtime_ns, text = _read(path)
    name = str(path)
    document = parse_jsonc(text, file=name)
    if not isinstance(document, dict):
        raise ConfigError(
            f"{name}: the config must be a JSON object, not {_json_type(document)}",
            file=name,
            hint=f"start from {_EXAMPLE}",
        )
    raw_templates = document.get("templates")
    if not isinstance(raw_templates, dict):
        found = "missing" if "templates" not in document else _json_type(raw_templates)
        raise ConfigError(
            f"{name}: `templates` must be an object of templates by id ({found})",
            file=name,
            path="templates",
            hint='add "templates": {} with at least one template',
        )

    top, errors, warnings = _validate_top_level(document)
    templates = {key: _validate_template(key, raw) for key, raw in raw_templates.items()}
    default_id = top.defaults.template_id if top.defaults is not None else None
    if default_id is not None and default_id not in templates:
        known = ", ".join(templates) or "none"
        errors.append(
            FieldError("defaults.templateId", f"unknown template {default_id!r} (defined: {known})")
        )
    return WorkspaceConfig(
        file=path,
        mtime_ns=mtime_ns,
        templates=templates,
        defaults=top.defaults,
        opencode=top.opencode,
        prompt_sources=list(top.prompt_sources),
        base_prompt=top.base_prompt,
        errors=errors,
        warnings=warnings,
    )


def _read(path: Path) -> tuple[int, str]:
    # Stat the open file before reading: if it changes meanwhile, the recorded
    # mtime is older than the content and a cache re-reads it next time.
    name = str(path)
    try:
        with path.open("rb") as handle:
            mtime_ns = os.fstat(handle.fileno()).st_mtime_ns
            data = handle.read()
    except OSError as exc:
        raise ConfigError(
            f"{name}: cannot read config file: {exc.strerror or exc}",
            file=name,
            hint="check that the file exists and is readable by the Hive server",
        ) from exc
    try:
        return mtime_ns, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{name}: config file is not valid UTF-8 (byte {exc.start})",
            file=name,
            hint="save the file as UTF-8",
        ) from exc


def _validate_top_level(
    document: dict[str, Any],
) -> tuple[HiveConfig, list[FieldError], list[FieldError]]:
    """Everything but the templates; keys that fail are reported and then ignored."""
    outcome = validate_lenient(HiveConfig, {**document, "templates": {}})
    warnings = [_unknown_key([], location) for location in outcome.unknown]
    if outcome.value is not None:
        return outcome.value, [], warnings
    errors = [_field_error(p.location, _message(p)) for p in outcome.errors]
    broken = {p.location[0] for p in outcome.errors if p.location}
    # Every top-level field but `templates` is optional, so dropping the broken
    # keys leaves a document that validates.
    kept = {key: value for key, value in outcome.document.items() if key not in broken}
    return HiveConfig.model_validate(kept), errors, warnings


def _validate_template(key: str, raw: Any) -> TemplateEntry:
    raw_dict = raw if isinstance(raw, dict) else {}
    if not key:
        error = FieldError(_json_path(["templates", key]), "template id must not be empty")
        return TemplateEntry(id=key, valid=False, template=None, raw=raw_dict, errors=[error])
    outcome = validate_lenient(Template, with_template_id(key, raw), _strip_service_tags)
    where = ["templates", key]
    return TemplateEntry(
        id=key,
        valid=outcome.value is not None,
        template=outcome.value,
        raw=raw_dict,
        errors=[_field_error([*where, *p.location], _message(p)) for p in outcome.errors],
        warnings=[_unknown_key(where, location) for location in outcome.unknown],
    )


def _strip_service_tags(loc: Sequence[str | int]) -> Location:
    # Errors inside a service carry the union tag after the service name
    # (services.api.process.run); it is not a key in the file, so drop it.
    parts = list(loc)
    if len(parts) >= 3 and parts[0] == "services" and parts[2] in SERVICE_TYPES:
        del parts[2]
    # Likewise a setup entry's form (setup.1.object.retries).
    for i in range(len(parts) - 1, 1, -1):
        if parts[i] in SETUP_FORMS and isinstance(parts[i - 1], int) and parts[i - 2] == "setup":
            del parts[i]
    return tuple(parts)


def _unknown_key(where: Sequence[str | int], location: Location) -> FieldError:
    return FieldError(_json_path([*where, *location]), UNKNOWN_KEY)


def _message(problem: Problem) -> str:
    # A string where a list belongs is the likeliest slip (`"setup": "npm ci"`); the
    # TypeScript Hive rejects it too, so say how to write it instead.
    if problem.kind == "list_type" and isinstance(problem.input, str):
        example = json.dumps(problem.input) if len(problem.input) <= 40 else '"…"'
        return f"Input should be a list, not a string: write [{example}] for one entry"
    return problem.message


def _field_error(loc: Sequence[str | int], message: str) -> FieldError:
    parts = list(loc)
    # pydantic reports a bad dict key as (..., key, "[key]").
    if parts and parts[-1] == "[key]":
        parts.pop()
        message = f"invalid key: {message}"
    return FieldError(_json_path(parts), message)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$-]+")


def _json_path(parts: Sequence[str | int]) -> str:
    """`templates.web.setup[1]`; keys that would be ambiguous are quoted: `a["x.y"]`."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{json.dumps(part)}]"
    return path


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case _:
            return "an object"
