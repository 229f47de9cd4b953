"""`/` in a real browser: cells appear, move and go live from the workspace stream (a
deleted one never comes back), actions from the page, agent status, memory and disk."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from hive.web.rendering import PageRenderer
from tests.support.cli import hive_cli
from tests.support.repos import basic_template, make_repo
from tests.support.ui import UI

# Setup waits for a file the test makes: the cell is held in `run_setup` until then.
HELD = basic_template(setup=['while [ ! -f "$HIVE_CELL_PATH.go" ]; do sleep 0.02; done'])
#: Figures re-read once a minute: within a test, what changes came from the stream.
NO_TICK = {"sample_interval_s": 120.0}


def release(cell: dict[str, Any]) -> None:
    Path(cell["worktreePath"] + ".go").touch()


def row(page: Page, cell: dict[str, Any]) -> Locator:
    return page.locator(f"#cell-{cell['id']}")


def mark_page(page: Page) -> None:
    """A mark a reload would wipe: still there later, nothing reloaded."""
    page.evaluate("window.hiveNotReloaded = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.hiveNotReloaded === true"))


def count_refreshes(page: Page) -> Callable[[], int]:
    page.evaluate(
        "window.hiveRefreshes = 0;"
        "document.addEventListener('hive:refreshed', () => { window.hiveRefreshes += 1; })"
    )
    return lambda: int(page.evaluate("window.hiveRefreshes"))


@pytest.fixture
def held_ui(open_ui: Callable[..., UI], tmp_path: Path) -> UI:
    return open_ui([make_repo(tmp_path / "held", {"basic": HELD})], **NO_TICK)


@pytest.fixture
def quiet_ui(open_ui: Callable[..., UI], repo: Path) -> UI:
    return open_ui([repo], **NO_TICK)


def test_a_cell_made_through_the_api_appears_live_and_its_badge_moves_to_ready(
    held_ui: UI,
) -> None:
    ui, page = held_ui, held_ui.page
    expect(page.get_by_text("No cells in this workspace yet.")).to_be_visible()
    mark_page(page)
    cell = ui.create("watched")
    status = row(page, cell).locator("[data-col=status]")
    expect(page.locator("#cells-news")).to_have_text(re.compile("^watched is (pending|spawning)$"))
    # Held in setup: spawning, how far (a percentage), and the step it is at.
    expect(status.locator(".badge")).to_have_text(re.compile(r"spawning \d+%"))
    expect(status.locator("[data-step]")).to_contain_text("run_setup")
    release(ui.hive.cell(cell["id"]))
    expect(status.locator(".badge")).to_have_text("ready")
    expect(page.locator("#cells-news")).to_have_text("watched is ready")  # told, politely
    expect(row(page, cell).get_by_role("link", name="watched", exact=True)).to_have_attribute(
        "href", f"/cells/{cell['id']}"
    )
    assert not_reloaded(page)


def test_a_cell_deleted_through_the_api_disappears_live_and_stays_gone(quiet_ui: UI) -> None:
    ui, page = quiet_ui, quiet_ui.page
    gone, kept = (ui.hive.settle(ui.create(name)["id"]) for name in ("doomed", "kept"))
    ui.go("/")
    expect(row(page, gone)).to_be_visible()
    # What the list looked like before the delete: a late refresh may still answer it.
    stale = page.evaluate("fetch('/?part=cells').then((r) => r.text())")
    assert gone["id"] in stale
    mark_page(page)
    refreshes = count_refreshes(page)
    assert ui.hive.http.delete(f"/api/cells/{gone['id']}").status_code == 200
    expect(row(page, gone)).to_have_count(0)
    expect(page.locator("#cells-news")).to_have_text("doomed was deleted")
    # Every later refresh answers the stale list; the archive's events bring refreshes.
    page.route(re.compile(r"/\?part=cells$"), lambda route: route.fulfill(body=stale))
    before = refreshes()
    assert ui.hive.http.post(f"/api/cells/{kept['id']}/archive").status_code == 200
    page.wait_for_function(f"window.hiveRefreshes > {before}")
    expect(row(page, kept)).to_be_visible()  # the stale fragment is what shows now
    expect(row(page, gone)).to_have_count(0)
    assert not_reloaded(page)


def test_a_refresh_tick_does_not_bring_a_deleted_cell_back(
    open_ui: Callable[..., UI], repo: Path
) -> None:
    ui = open_ui([repo], sample_interval_s=0.2)  # a re-read of the figures every second
    page = ui.page
    gone = ui.hive.settle(ui.create("doomed")["id"])
    ui.go("/")
    expect(row(page, gone)).to_be_visible()
    refreshes = count_refreshes(page)
    assert ui.hive.http.delete(f"/api/cells/{gone['id']}").status_code == 200
    expect(row(page, gone)).to_have_count(0)
    at = refreshes()
    page.wait_for_function(f"window.hiveRefreshes > {at + 1}")  # ticks, no event
    expect(row(page, gone)).to_have_count(0)
    expect(page.get_by_text("No cells in this workspace yet.")).to_be_visible()


def test_a_workspace_registered_later_shows_on_a_tick_and_its_cells_come_live(
    open_ui: Callable[..., UI], repo: Path, tmp_path: Path
) -> None:
    ui = open_ui([repo], sample_interval_s=0.2)
    page = ui.page
    # Which streams the page opens, in order.
    page.add_init_script(
        "const Plain = window.EventSource; window.hiveStreams = [];"
        "window.EventSource = function (url) {"
        "  window.hiveStreams.push(url); return new Plain(url);"
        "};"
    )
    ui.go("/")
    other = make_repo(tmp_path / "other")
    added = ui.hive.http.post("/api/workspaces", json={"path": str(other), "label": "other"})
    assert added.status_code in (200, 201), added.text
    workspace = added.json()["id"]
    expect(page.get_by_role("heading", name=re.compile("^other"))).to_be_visible()
    mark_page(page)
    body = {"workspaceId": workspace, "templateId": "basic", "name": "elsewhere"}
    cell = ui.hive.http.post("/api/cells", json=body).json()
    expect(row(page, cell).locator("[data-col=status] .badge")).to_have_text("ready")
    assert not_reloaded(page)
    streams = page.evaluate("window.hiveStreams")
    assert [url.split("?")[0] for url in streams] == [
        f"/api/workspaces/{ui.hive.workspace_id()}/stream",
        f"/api/workspaces/{workspace}/stream",
    ]


def test_delete_from_the_page_asks_first_then_the_cell_goes(quiet_ui: UI) -> None:
    ui, page = quiet_ui, quiet_ui.page
    cell = ui.hive.settle(ui.create("to delete")["id"])
    ui.go("/")
    mark_page(page)
    asked: list[str] = []

    def answer(accept: bool) -> Callable[[Any], None]:
        def handle(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    delete = row(page, cell).get_by_role("button", name="Delete to delete")
    page.once("dialog", answer(False))
    delete.click()
    assert asked and "to delete" in asked[0]
    assert ui.hive.http.get(f"/api/cells/{cell['id']}").status_code == 200, "dismissed: kept"
    page.once("dialog", answer(True))
    delete.click()
    expect(row(page, cell)).to_have_count(0)
    assert ui.hive.http.get(f"/api/cells/{cell['id']}").status_code == 404
    expect(page.locator("#flash")).to_be_hidden()
    assert not_reloaded(page)


def test_archive_from_the_page_shows_archived_and_restore_brings_it_back(quiet_ui: UI) -> None:
    ui, page = quiet_ui, quiet_ui.page
    cell = ui.hive.settle(ui.create("shelved")["id"])
    ui.go("/")
    badge = row(page, cell).locator("[data-col=status] .badge")
    expect(badge).to_have_text("ready")
    row(page, cell).get_by_role("button", name="Archive shelved").click()
    expect(badge).to_have_text("archived")
    assert ui.hive.cell(cell["id"])["status"] == "archived"
    row(page, cell).get_by_role("button", name="Restore shelved").click()
    expect(badge).to_have_text("ready")


def test_actions_lead_to_the_cells_page_and_the_template_browser(quiet_ui: UI) -> None:
    ui, page = quiet_ui, quiet_ui.page
    cell = ui.hive.settle(ui.create("linked")["id"])
    ui.go("/")
    expect(row(page, cell).get_by_role("link", name="Open linked")).to_have_attribute(
        "href", f"/cells/{cell['id']}"
    )
    expect(page.get_by_role("link", name="New cell")).to_have_attribute(
        "href", f"/cells/new?workspaceId={ui.hive.workspace_id()}"
    )


def test_at_360_px_each_cell_fits_with_its_actions_in_reach(quiet_ui: UI) -> None:
    ui, page = quiet_ui, quiet_ui.page
    cell = ui.hive.settle(ui.create("a cell with a rather long name indeed")["id"])
    page.set_viewport_size({"width": 360, "height": 800})
    ui.go("/")
    expect(page.locator("table.cells thead")).to_be_hidden()  # each figure says what it is
    label = (
        row(page, cell)
        .locator("[data-col=memory]")
        .evaluate("(td) => getComputedStyle(td, '::before').content")
    )
    assert "memory" in label
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scroll"
    delete = row(page, cell).get_by_role("button", name=re.compile("^Delete"))
    box = delete.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360


AGENTS = {
    "bare": basic_template(id="bare", agent={"type": "none"}),
    # Works until the test drops a file in its worktree, then ends with code 3.
    "script": basic_template(
        id="script",
        agent={"type": "command", "run": "while [ ! -f stop-agent ]; do sleep 0.05; done; exit 3"},
    ),
    "served": basic_template(id="served", services={"worker": {"run": "exec sleep 300"}}),
}


def test_agent_status_memory_and_disk_render(open_ui: Callable[..., UI], tmp_path: Path) -> None:
    ui = open_ui(
        [make_repo(tmp_path / "agents", AGENTS)],
        sample_interval_s=0.2,
        service_start_grace_s=0.1,
    )
    page = ui.page
    bare = ui.hive.settle(ui.create("no agent", "bare")["id"])
    script = ui.hive.settle(ui.create("scripted", "script")["id"])
    served = ui.hive.settle(ui.create("with service", "served")["id"])
    ui.go("/")
    expect(row(page, bare).locator("[data-col=agent]")).to_have_text("none")
    agent = row(page, script).locator("[data-col=agent]")
    expect(agent).to_have_text("working")
    (Path(script["worktreePath"]) / "stop-agent").touch()
    expect(agent).to_have_text("stopped")  # the agent's change came live
    size = re.compile(r"^\d+(\.\d+)? (B|[kKMGT]i?B)$")
    # The worker's memory once sampled; each worktree's disk once measured.
    expect(row(page, served).locator("[data-col=memory]")).to_have_text(size)
    for cell in (bare, script, served):
        expect(row(page, cell).locator("[data-col=disk]")).to_have_text(size)
    expect(row(page, bare).locator("[data-col=memory]")).to_have_text("0 B")  # no process


def test_the_address_hive_open_prints_signs_a_browser_in_on_a_cells_page(
    quiet_ui: UI, browser: Browser, tmp_path: Path
) -> None:
    cell = quiet_ui.hive.settle(quiet_ui.create("visited")["id"])
    out = hive_cli("open", "visited", "--print", hive=quiet_ui.hive, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    stranger = browser.new_context().new_page()
    try:
        stranger.goto(out.stdout.strip())
        expect(stranger).to_have_url(f"{quiet_ui.hive.url}/cells/{cell['id']}")
        stranger.goto(f"{quiet_ui.hive.url}/")  # the cookie: signed in from now on
        expect(row(stranger, cell)).to_be_visible()
    finally:
        stranger.context.close()


def _cell(status: str, agent: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    """A cell as the cells API answers it, as far as the list reads it."""
    return {
        "id": f"c-{status}-{agent and agent.get('status')}",
        "name": f"{status} cell",
        "status": status,
        "workspace_id": "w",
        "template_id": "basic",
        "branch_name": "hive/x",
        "agent": agent,
        "last_setup_error": None,
        "provisioning": {"done": 0, "total": 0, "current_step": None, "current_substep": None},
        **extra,
    }


@pytest.mark.parametrize(
    ("agent", "shown"),
    [
        ({"type": "opencode", "status": "waiting"}, "waiting for you"),
        ({"type": "opencode", "status": "idle"}, "idle"),
        ({"type": "command", "status": "working"}, "working"),
        ({"type": "none", "status": None}, "none"),
        (None, "none"),
    ],
)
def test_the_agent_column_says_what_the_api_says_the_agent_is_doing(
    agent: dict[str, Any] | None, shown: str
) -> None:
    html = (
        PageRenderer()
        .env.get_template("home/_cells.html")
        .render(
            workspaces=[{"id": "w", "label": "repo", "path": "/repo"}],
            cells=[_cell("ready", agent)],
            resources={},
        )
    )
    [cell] = re.findall(r'data-col="agent"[^>]*>\s*(.*?)\s*</td>', html, re.S)
    assert re.sub(r"<[^>]+>", "", cell).strip() == shown


def test_a_failed_cell_says_where_and_a_spawning_one_how_far() -> None:
    failed = _cell("error", None, last_setup_error={"step": "run_setup"})
    spawning = _cell(
        "spawning",
        None,
        provisioning={"done": 3, "total": 7, "current_step": "run_setup",
                      "current_substep": "run_setup:2"},
    )  # fmt: skip
    html = (
        PageRenderer()
        .env.get_template("home/_cells.html")
        .render(
            workspaces=[{"id": "w", "label": "repo", "path": "/repo"}],
            cells=[failed, spawning],
            resources={},
        )
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "error failed at run_setup" in text
    assert "spawning 43% run_setup:2 · step 4 of 7" in text
    assert "Archive" not in text  # only a ready cell can be archived
