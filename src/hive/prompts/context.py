"""The runtime facts a prompt may name: its placeholders and its "Runtime context" and
brief sections. Names of env variables only, never their values. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hive.prompts.fragments import BRIEF_SOURCE, CONTEXT_SOURCE, Fragment


@dataclass(frozen=True)
class ServiceFacts:
    name: str
    port: int | None
    url: str | None
    status: str


@dataclass(frozen=True)
class OptionFacts:
    """A template option and the value the cell was made with."""

    name: str
    label: str
    value: str


@dataclass(frozen=True)
class RuntimeFacts:
    cell_id: str
    name: str
    branch: str
    base_commit: str | None
    worktree_path: str
    workspace_path: str
    template_id: str
    template_label: str
    services: tuple[ServiceFacts, ...]
    env_names: tuple[str, ...]
    options: tuple[OptionFacts, ...] = ()


def placeholders(facts: RuntimeFacts) -> dict[str, Any]:
    """What `{{ ... }}` may name: cell.*, services.<name>.*, ports.<name>, env,
    template.*, options.<name>."""
    services = {
        s.name: {"name": s.name, "port": s.port, "url": s.url, "status": s.status}
        for s in facts.services
    }
    return {
        "cell": {
            "id": facts.cell_id,
            "name": facts.name,
            "branch": facts.branch,
            "baseCommit": facts.base_commit,
            "worktreePath": facts.worktree_path,
            "workspacePath": facts.workspace_path,
            "templateId": facts.template_id,
        },
        "services": services,
        "ports": {s.name: s.port for s in facts.services if s.port is not None},
        "env": list(facts.env_names),
        "template": {"id": facts.template_id, "label": facts.template_label},
        "options": {o.name: o.value for o in facts.options},
    }


def context_fragment(facts: RuntimeFacts) -> Fragment:
    lines = [
        "## Runtime context",
        "",
        f"- Worktree: `{facts.worktree_path}`",
        f"- Branch: `{facts.branch}`",
        f"- Base commit: `{facts.base_commit or 'unknown'}`",
        f"- Template: `{facts.template_id}` ({facts.template_label})",
    ]
    for option in facts.options:
        label = f" ({option.label})" if option.label != option.name else ""
        lines.append(f"- Option `{option.name}`{label}: `{option.value}`")
    if facts.services:
        lines += ["", "### Services", "", "| name | port | URL | status |", "|---|---|---|---|"]
        lines += [
            f"| {s.name} | {s.port if s.port is not None else '-'} | {s.url or '-'} | {s.status} |"
            for s in facts.services
        ]
    if facts.env_names:
        names = ", ".join(f"`{name}`" for name in facts.env_names)
        lines += ["", f"Environment variables set in this cell (see `.hive/env`): {names}"]
    return Fragment(CONTEXT_SOURCE, "\n".join(lines) + "\n", placeholders=False)


def brief_fragment(
    description: str | None, constraints: Sequence[str], success_criteria: Sequence[str]
) -> Fragment | None:
    """The task, what must not be done, and how success is judged; None when all empty."""
    parts: list[str] = []
    if description and description.strip():
        parts += ["## Task", "", description.strip(), ""]
    if constraints:
        parts += ["## Constraints", "", *(f"- {item}" for item in constraints), ""]
    if success_criteria:
        parts += ["## Success criteria", "", *(f"- {item}" for item in success_criteria), ""]
    if not parts:
        return None
    return Fragment(BRIEF_SOURCE, "\n".join(parts), placeholders=False)
