"""`/cells/new`: the template browser: cards with checks and estimates, invalid
templates with their errors, the form, its field errors, and creating a cell."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.repos import basic_template, make_repo, write_config
from tests.support.ui import UI


def _templates() -> dict[str, Any]:
    return {
        "basic": basic_template(
            description="A plain cell for small tasks",
            requires={"commands": ["git"], "files": ["README.md"]},
            options={
                "database": {
                    "label": "Database",
                    "choices": {"sqlite": {}, "postgres": {"env": {"DB_KIND": "pg"}}},
                    "default": "sqlite",
                }
            },
        ),
        "blocked": basic_template(
            id="blocked", label="Blocked", requires={"files": ["missing.txt"]}
        ),
        "quiet": basic_template(id="quiet", label="Quiet", agent={"type": "none"}),
        "broken": {
            "label": "Broken",
            "options": {"database": {"choices": {"sqlite": {}}, "default": "mysql"}},
        },
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", _templates())


def _browser(ui: UI) -> Page:
    return ui.go(f"/cells/new?workspaceId={ui.hive.workspace_id()}")


def _card(page: Page, label: str) -> Locator:
    return page.locator("article.card").filter(has=page.get_by_role("heading", name=label))


def _choose(page: Page, label: str) -> Locator:
    """Choose the template with the keyboard, as its button is a real button."""
    button = page.get_by_role("button", name=f"Choose {label}")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-pressed", "true")
    form = page.locator("#new-cell")
    expect(form).to_be_visible()
    return form


def test_cards_show_label_description_checks_and_estimate(ui: UI) -> None:
    made = ui.create("first", "basic")
    assert ui.hive.settle(made["id"])["status"] == "ready"
    page = _browser(ui)
    basic = _card(page, "Basic")
    expect(basic).to_contain_text("A plain cell for small tasks")
    expect(basic.locator(".checks li.ok").filter(has_text="command:git")).to_have_count(1)
    expect(basic.locator(".checks li.ok").filter(has_text="file:README.md")).to_have_count(1)
    expect(basic).to_contain_text("met in this workspace")
    # The estimate comes from the cell just made, and says so.
    estimate = basic.locator("dl.estimate")
    expect(estimate).to_contain_text("Provisioning")
    expect(basic.locator(".basis")).to_contain_text("1 cell measured")
    expect(basic.locator("dl.options")).to_contain_text("sqlite (default)")

    blocked = _card(page, "Blocked")
    failed = blocked.locator(".checks li.failed").filter(has_text="file:missing.txt")
    expect(failed).to_have_count(1)
    expect(blocked).to_contain_text("not met in this workspace")
    expect(blocked.locator(".basis")).to_contain_text("no cells of this template here yet")
    expect(blocked.get_by_role("button", name="Choose Blocked")).to_be_disabled()


def test_an_invalid_template_shows_its_field_path_and_message(ui: UI) -> None:
    page = _browser(ui)
    broken = _card(page, "Broken")
    expect(broken).to_have_class(re.compile(r"\binvalid\b"))
    error = broken.locator(".config-errors li")
    expect(error.locator(".path")).to_have_text("templates.broken.options.database.default")
    expect(error.locator(".message")).to_contain_text("'mysql' is not one of the choices")
    expect(broken.get_by_role("button")).to_have_count(0)


def test_problems_outside_the_templates_are_listed_with_their_paths(ui: UI, repo: Path) -> None:
    write_config(repo, _templates(), defaults={"templateId": "nope"}, colour="blue")
    page = _browser(ui)
    problems = page.locator("#config-problems")
    expect(problems.locator("li").filter(has_text="defaults.templateId")).to_contain_text(
        "unknown template 'nope'"
    )
    expect(problems.locator("li").filter(has_text="colour")).to_contain_text("ignored")
    expect(_card(page, "Basic")).to_be_visible()


def test_choosing_a_template_reveals_its_options_and_the_form(ui: UI) -> None:
    page = _browser(ui)
    expect(page.locator("#new-cell")).to_be_hidden()
    form = _choose(page, "Basic")
    expect(form.get_by_role("heading")).to_have_text("New cell from Basic")
    database = form.get_by_label("Database")
    expect(database).to_be_visible()
    expect(database).to_have_value("sqlite")
    expect(form.locator(".choices")).to_contain_text("postgres: adds env DB_KIND")
    for field in ("Name", "Task brief", "Constraints", "Success criteria"):
        expect(form.get_by_label(field)).to_be_visible()
    # No `agent`: cells get OpenCode when it is there, so a model can be picked (here
    # OpenCode is off, which the field says instead of failing).
    expect(form.get_by_label("Model")).to_be_visible()
    expect(form.locator("#cell-model-hint")).to_contain_text("No models to pick from")
    # Another template: its own options (none here), and no model for an agent of none.
    form = _choose(page, "Quiet")
    expect(form.get_by_role("heading")).to_have_text("New cell from Quiet")
    expect(page.get_by_role("button", name="Choose Basic")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(database).to_be_hidden()
    expect(form.get_by_label("Model")).to_be_hidden()
    expect(form.get_by_label("Name")).to_be_visible()


def test_choosing_runs_the_checks_again_and_create_says_why_not(ui: UI, repo: Path) -> None:
    page = _browser(ui)
    expect(_card(page, "Basic").locator(".checks li.ok")).to_have_count(5)
    (repo / "README.md").unlink()
    form = _choose(page, "Basic")
    failed = _card(page, "Basic").locator(".checks li.failed")
    expect(failed).to_contain_text("file:README.md")
    create = form.get_by_role("button", name="Create cell")
    expect(create).to_be_disabled()
    expect(form.locator("#create-blocked")).to_contain_text("fails file:README.md")


def test_an_invalid_name_is_flagged_on_the_field_as_one_types(ui: UI) -> None:
    page = _browser(ui)
    form = _choose(page, "Basic")
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    name = form.get_by_label("Name")
    name.fill("x" * 121)
    error = form.locator("#cell-name-error")
    expect(error).to_have_text("At most 120 characters: this name has 121.")
    expect(name).to_have_attribute("aria-invalid", "true")
    name.fill("fine name")
    expect(error).to_have_text("")
    expect(name).not_to_have_attribute("aria-invalid", "true")
    name.fill("   ")
    name.blur()
    expect(error).to_have_text("A cell needs a name.")
    # Only the template's re-check was sent; no create.
    assert not any(url.endswith("/api/cells") for url in posted), posted


def test_a_server_error_is_shown_on_its_field(ui: UI, repo: Path) -> None:
    page = _browser(ui)
    form = _choose(page, "Basic")
    form.get_by_label("Name").fill("stale choice")
    form.get_by_label("Database").select_option("postgres")
    # The file changes under the open page: postgres is no longer a choice.
    templates = _templates()
    del templates["basic"]["options"]["database"]["choices"]["postgres"]
    write_config(repo, templates)
    form.get_by_role("button", name="Create cell").click()
    error = form.locator(".field").filter(has=page.get_by_label("Database")).locator(".field-error")
    expect(error).to_contain_text("'postgres' is not a choice (sqlite)")
    expect(form.get_by_label("Database")).to_have_attribute("aria-invalid", "true")
    # A body the API's schema refuses names its field and line too.
    form.get_by_label("Database").select_option("sqlite")
    form.get_by_label("Success criteria").fill("tests pass\n" + "y" * 2001)
    form.get_by_role("button", name="Create cell").click()
    expect(form.locator("#cell-successCriteria-error")).to_contain_text(
        "Line 2: String should have at most 2000 characters"
    )
    expect(form.locator("#cell-name-error")).to_have_text("")
    assert ui.hive.http.get("/api/cells").json()["cells"] == []


def test_create_lands_on_the_cell_page_and_the_cell_exists(ui: UI) -> None:
    page = _browser(ui)
    form = _choose(page, "Basic")
    form.get_by_label("Name").fill("From the browser")
    form.get_by_label("Task brief").fill("Add a health check")
    form.get_by_label("Constraints").fill("no new dependencies\n\nkeep it small")
    form.get_by_label("Database").select_option("postgres")
    form.get_by_role("button", name="Create cell").click()
    expect(page).to_have_url(re.compile(r"/cells/[0-9a-f]{32}$"))
    cell_id = page.url.rsplit("/", 1)[1]
    cell = ui.hive.cell(cell_id)
    assert cell["name"] == "From the browser"
    assert cell["templateId"] == "basic"
    assert cell["description"] == "Add a health check"
    assert cell["constraints"] == ["no new dependencies", "keep it small"]
    assert cell["options"] == {"database": "postgres"}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('{"templates": ["basic"]}', ["Field", "templates"]),
        ('{"templates": {\n  "basic": {,\n}', ["line 2, column 13", "invalid JSON"]),
    ],
)
def test_a_broken_config_file_is_shown_with_its_file_and_field(
    ui: UI, repo: Path, text: str, shown: list[str]
) -> None:
    (repo / "hive.config.json").write_text(text)
    response = ui.page.goto(f"{ui.hive.url}/cells/new?workspaceId={ui.hive.workspace_id()}")
    assert response is not None and response.status == 422
    problem = ui.page.locator("#config-error")
    expect(problem).to_contain_text(str(repo / "hive.config.json"))
    for piece in shown:
        expect(problem).to_contain_text(piece)


def test_an_unknown_workspace_is_a_clear_error_page(ui: UI) -> None:
    response = ui.page.goto(f"{ui.hive.url}/cells/new?workspaceId=nonesuch")
    assert response is not None and response.status == 404
    expect(ui.page.get_by_role("heading")).to_have_text("workspace 'nonesuch' does not exist")
    expect(ui.page.locator(".hint")).to_contain_text("registered workspaces: repo")
    response = ui.page.goto(f"{ui.hive.url}/cells/new?workspaceId=")
    assert response is not None and response.status == 422
    expect(ui.page.get_by_role("heading")).to_contain_text("workspaceId: empty")


def test_without_a_workspace_id_the_only_one_is_used(ui: UI) -> None:
    page = ui.go("/cells/new")
    expect(_card(page, "Basic")).to_be_visible()


def test_without_a_workspace_id_among_several_one_is_chosen(
    open_ui: Callable[..., UI], repo: Path, tmp_path: Path
) -> None:
    other = make_repo(tmp_path / "other", {"solo": basic_template(id="solo", label="Solo")})
    ui = open_ui([repo, other])
    page = ui.go("/cells/new")
    page.get_by_role("link", name="other").click()
    expect(_card(page, "Solo")).to_be_visible()
    expect(_card(page, "Basic")).to_have_count(0)
