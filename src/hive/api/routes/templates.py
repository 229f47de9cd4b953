"""Templates of a workspace's config, valid or not, with secrets redacted, and the
checks of one (`validate`).

Every template carries `warnings` (unknown keys, ignored), and `errors` when invalid;
a valid one always has its `requires` and `options`. Problems outside the templates are
in the top-level `errors` and `warnings`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from hive.api.deps import Runtime
from hive.api.disk_schemas import EstimateOut
from hive.api.template_schemas import TemplateValidationOut
from hive.config.loader import FieldError, TemplateEntry
from hive.core.estimates import Estimate
from hive.core.redaction import redact_env

router = APIRouter(prefix="/api/templates", tags=["templates"])


def _redacted(document: dict[str, Any]) -> dict[str, Any]:
    """Copy of a template document with env values of secret-looking names hidden."""
    out = dict(document)
    if isinstance(out.get("env"), dict):
        out["env"] = redact_env(out["env"])
    services = out.get("services")
    if isinstance(services, dict):
        out["services"] = {
            name: (
                {**svc, "env": redact_env(svc["env"])}
                if isinstance(svc, dict) and isinstance(svc.get("env"), dict)
                else svc
            )
            for name, svc in services.items()
        }
    options = out.get("options")
    if isinstance(options, dict):
        out["options"] = {name: _redacted_option(option) for name, option in options.items()}
    return out


def _redacted_option(option: Any) -> Any:
    choices = option.get("choices") if isinstance(option, dict) else None
    if not isinstance(choices, dict):
        return option
    return {
        **option,
        "choices": {
            value: (
                {**choice, "env": redact_env(choice["env"])}
                if isinstance(choice, dict) and isinstance(choice.get("env"), dict)
                else choice
            )
            for value, choice in choices.items()
        },
    }


def _problems(problems: list[FieldError]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in problems]


def template_body(entry: TemplateEntry) -> dict[str, Any]:
    if entry.template is not None:
        document = entry.template.model_dump(by_alias=True, exclude_none=True, mode="json")
        # Present even when the file has none, so a client needs no defaults of its own.
        document.setdefault("requires", {"commands": [], "files": [], "env": []})
    else:
        document = dict(entry.raw)
    body = {
        **_redacted(document),
        "id": entry.id,
        "valid": entry.valid,
        "warnings": _problems(entry.warnings),
    }
    if not entry.valid:
        body["errors"] = _problems(entry.errors)
    return body


def _estimate(estimates: dict[str, Estimate], entry: TemplateEntry) -> dict[str, Any]:
    """`estimate`: from the template's cells in this workspace (null when invalid)."""
    found = estimates.get(entry.id)
    return {"estimate": EstimateOut.of(found).model_dump(by_alias=True) if found else None}


@router.get("")
async def list_templates(
    runtime: Runtime, workspace_id: str = Query(alias="workspaceId")
) -> dict[str, Any]:
    workspace = await runtime.stores.workspaces.get(workspace_id)
    config = await runtime.configs.aget(workspace.path)
    defaults = (
        config.defaults.model_dump(by_alias=True, exclude_none=True) if config.defaults else {}
    )
    estimates = await runtime.estimates.of_config(workspace.id, config)
    return {
        "workspaceId": workspace.id,
        "file": str(config.file),
        "templates": [
            template_body(entry) | _estimate(estimates, entry)
            for entry in config.templates.values()
        ],
        "defaults": defaults,
        "errors": _problems(config.errors),
        "warnings": _problems(config.warnings),
    }


@router.post("/{template_id}/validate")
async def validate_template(
    template_id: str, runtime: Runtime, workspace_id: str = Query(alias="workspaceId")
) -> TemplateValidationOut:
    """Check that a cell of the template can be made here, now: its `requires`
    (commands on the cell's PATH, repository files, env variables by name), room where
    worktrees go, a repository with a commit, its fixed ports free and its agent
    available. Each check says what to do when it fails; `ok` when all pass."""
    return TemplateValidationOut.of(await runtime.templates.validate(workspace_id, template_id))
