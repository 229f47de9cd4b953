"""`/cells/new?workspaceId=…`: the template browser. One card per template of the
workspace (its checks here, its estimate, its options; an invalid one with its config
errors), and the form that creates a cell of the chosen one through `POST /api/cells`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from hive.api.deps import Runtime
from hive.api.routes.templates import list_templates, validate_template
from hive.api.routes.workspaces import list_workspaces
from hive.api.schemas import WorkspaceOut
from hive.core.errors import ConfigError, HiveError, InvalidInputError, NotFoundError
from hive.provisioning.requests.cells import MAX_NAME_LENGTH
from hive.web.deps import Pages
from hive.web.page_route import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/cells/new")
async def new_cell(
    request: Request,
    runtime: Runtime,
    pages: Pages,
    workspace_id: str | None = Query(default=None, alias="workspaceId"),
) -> HTMLResponse:
    workspaces = (await list_workspaces(runtime)).workspaces
    workspace = _workspace(workspaces, workspace_id)
    if workspace is None:
        return pages.render(request, "new_cell/choose_workspace.html", workspaces=workspaces)
    context: dict[str, Any] = {"workspace": workspace, "max_name_length": MAX_NAME_LENGTH}
    try:
        listing = await list_templates(runtime, workspace.id)
    except ConfigError as exc:
        # The whole file is unusable: say which file and where, as the page itself.
        return pages.render(
            request,
            "new_cell/page.html",
            status_code=422,
            config_error=exc.to_dict(),
            listing=None,
            cards=[],
            **context,
        )
    # One template after another: two templates' checks binding the same fixed port
    # at once would each find it taken.
    cards = [
        await _card(runtime, workspace.id, template, index)
        for index, template in enumerate(listing["templates"], 1)
    ]
    return pages.render(
        request, "new_cell/page.html", config_error=None, listing=listing, cards=cards, **context
    )


def _workspace(workspaces: list[WorkspaceOut], wanted: str | None) -> WorkspaceOut | None:
    """The workspace asked for; without one, the only one there is (None: let them choose)."""
    if wanted is None:
        if not workspaces:
            raise NotFoundError(
                "no workspace is registered yet, so there is nowhere to make a cell",
                hint="register a git repository: `hive workspaces add /path/to/repo`",
            )
        return workspaces[0] if len(workspaces) == 1 else None
    if not wanted.strip():
        raise InvalidInputError(
            "workspaceId: empty; the page needs the id of a workspace",
            hint="open New cell from a workspace on the Cells page",
        )
    found = next((w for w in workspaces if w.id == wanted), None)
    if found is None:
        known = ", ".join(f"{w.label} ({w.id})" for w in workspaces) or "none"
        raise NotFoundError(
            f"workspace '{wanted[:80]}' does not exist",
            hint=f"registered workspaces: {known}; open New cell from the Cells page",
        )
    return found


async def _card(
    runtime: Runtime, workspace_id: str, template: dict[str, Any], index: int
) -> dict[str, Any]:
    """A template as its card shows it: the listing's body and, when valid, its checks.
    `key` names its elements' ids (a template id may hold anything)."""
    card: dict[str, Any] = {
        "key": f"template-{index}",
        "template": template,
        "checks": [],
        "meets": False,
        "problem": None,
        "agent_kind": None,
    }
    if not template["valid"]:
        return card
    try:
        validation = await validate_template(template["id"], runtime, workspace_id)
    except HiveError as exc:
        card["problem"] = exc.to_dict()
        return card
    card["checks"] = [check.model_dump(by_alias=True) for check in validation.checks]
    card["meets"] = validation.ok
    # Without an `agent`, cells get OpenCode when it is there: a model can be picked.
    agent = template.get("agent") or {}
    card["agent_kind"] = agent.get("type") or "opencode"
    return card
