"""`/cells/{id}`: the live provisioning checklist, failure and retry, cancel, and a ready
cell's services, prompt and actions, in a real browser against a real server.

Setup commands and services that wait for a file the test writes hold a cell at a
known step for as long as the test needs: nothing here sleeps to catch a moment.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.repos import basic_template, git, make_repo
from tests.support.ui import UI

APP = Path(__file__).parents[1] / "support" / "service_app.py"
PY = sys.executable


def templates(gates: Path) -> dict[str, Any]:
    def gate(name: str) -> str:
        """`<gates>/<cell name>.<name>`, a file the test writes (`go_on`)."""
        return f'"{gates}/$HIVE_CELL_NAME.{name}"'

    def wait(name: str) -> str:
        return f"until [ -f {gate(name)} ]; do sleep 0.05; done"

    web = {"run": f"{PY} service_app.py web $PORT", "ready": {"http": "/health"}}
    held_web = {**web, "run": f"{wait('web')}; exec {web['run']}"}
    return {
        "held": basic_template(
            id="held",
            setup=[
                'echo "preparing the cell"',
                # Held until `go`; a `say` first makes it speak while still held.
                f"until [ -f {gate('go')} ] || [ -f {gate('say')} ]; do sleep 0.05; done; "
                f'echo "the test spoke $((40 + 2)) times"; {wait("go")}',
                'echo "setup done"',
            ],
            services={"web": held_web},
        ),
        "failing": basic_template(
            id="failing",
            setup=[
                'echo "checking the fixture"',
                'test -f fixed.txt || { echo "fixed.txt is missing" >&2; exit 3; }',
            ],
        ),
        "web": basic_template(id="web", setup=[], services={"web": web}),
        "trio": basic_template(
            id="trio",
            setup=[],
            services={
                name: {**web, "run": f"{PY} service_app.py {name} $PORT"}
                for name in ("api", "db", "queue")
            },
        ),
        # A terminal agent that writes down the first thing it is sent, and ends.
        "agent": basic_template(
            id="agent",
            setup=[],
            agent={"type": "command", "run": 'read line && echo "$line" > agent-heard.txt'},
        ),
    }


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    """Setup commands are real login shells: on a busy machine a step takes seconds."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    path = tmp_path / "gates"
    path.mkdir()
    return path


@pytest.fixture
def cell_ui(open_ui: Callable[..., UI], tmp_path: Path, gates: Path) -> UI:
    repo = make_repo(tmp_path / "repo", templates(gates))
    shutil.copy(APP, repo / "service_app.py")
    git(repo, "add", "service_app.py")
    git(repo, "commit", "-q", "-m", "service app")
    return open_ui([repo])


def go_on(gates: Path, cell: dict[str, Any], gate: str) -> None:
    (gates / f"{cell['name']}.{gate}").touch()


def step(page: Page, name: str) -> Locator:
    return page.locator(f".checklist li[data-step='{name}']")


def test_the_checklist_ticks_to_ready_without_a_reload(cell_ui: UI, gates: Path) -> None:
    hive = cell_ui.hive
    earlier = hive.create("earlier", "held")
    go_on(gates, earlier, "go")
    go_on(gates, earlier, "web")
    assert hive.settle(earlier["id"])["status"] == "ready"  # history for an estimate
    cell = hive.create("watched", "held")
    page = cell_ui.go(f"/cells/{cell['id']}")
    page.evaluate("window.notReloaded = true")

    setup = step(page, "run_setup")
    expect(setup).to_have_class("running")
    expect(setup.locator(".spinner")).to_be_visible()
    expect(setup.locator("[data-detail]")).to_contain_text("command 2 of 3: until [ -f")
    expect(setup.locator("[data-setup-output]")).to_contain_text("preparing the cell")
    expect(step(page, "create_worktree")).to_have_class("done")
    expect(step(page, "create_worktree").locator("[data-state]")).to_have_text(
        re.compile(r"done · \d")
    )
    expect(step(page, "ensure_services")).to_have_class("waiting")
    eta = page.locator("[data-eta]")
    expect(eta).to_have_attribute("data-remaining-ms", re.compile(r"^\d+$"))
    # The page counts down between renders; the earlier run was short, so it runs out.
    expect(eta).to_have_text("any moment now")
    expect(page.locator("#checklist")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("button", name="Retry")).to_be_disabled()
    expect(page.locator("#retry-reason")).to_contain_text("while a run is active")

    go_on(gates, cell, "go")
    expect(setup).to_have_class("done")
    expect(setup.locator("[data-state]")).to_have_text(re.compile(r"done · \d"))
    services = step(page, "ensure_services")
    expect(services).to_have_class("running")
    expect(services.locator("[data-detail]")).to_have_text("waiting for web to be ready")

    go_on(gates, cell, "web")
    expect(page.locator("[data-cell-status]")).to_have_text("ready")
    expect(page.locator("[data-worktree]")).to_have_text(cell["worktreePath"])
    expect(page.locator(".checklist")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True, "the page was reloaded"


def test_a_reload_mid_provisioning_lands_on_the_same_live_checklist(
    cell_ui: UI, gates: Path
) -> None:
    cell = cell_ui.create("reloaded", "held")
    page = cell_ui.go(f"/cells/{cell['id']}")
    expect(step(page, "run_setup")).to_have_class("running")

    reloaded = page.reload()
    assert reloaded is not None
    # The server renders the step running, before any stream has said a word.
    assert '<li class="running" data-step="run_setup">' in reloaded.text()
    expect(step(page, "create_worktree")).to_have_class("done")
    expect(step(page, "run_setup")).to_have_class("running")
    output = page.locator("[data-setup-output]")
    expect(output).to_contain_text("preparing the cell")
    go_on(gates, cell, "say")  # the running command speaks: its output arrives live
    expect(output).to_contain_text("the test spoke 42 times")  # not the command's text
    go_on(gates, cell, "go")  # still live after the reload: the step ticks
    expect(step(page, "run_setup")).to_have_class("done")
    go_on(gates, cell, "web")
    expect(page.locator("[data-cell-status]")).to_have_text("ready")


def test_a_failed_setup_shows_why_and_retry_after_the_fix_makes_it_ready(cell_ui: UI) -> None:
    hive = cell_ui.hive
    cell = hive.create("broken", "failing")
    page = cell_ui.go(f"/cells/{cell['id']}")

    expect(page.locator("[data-cell-status]")).to_have_text("error")
    expect(page.locator("#failure-title")).to_have_text("Provisioning failed at run_setup")
    failure = hive.cell(cell["id"])["lastSetupError"]
    expect(page.locator("[data-failure-message]")).to_have_text(failure["message"])
    expect(page.locator("[data-failure-hint]")).to_have_text(failure["hint"])
    expect(page.locator("[data-failure-command]")).to_have_text(
        'test -f fixed.txt || { echo "fixed.txt is missing" >&2; exit 3; }'
    )
    expect(page.locator("[data-failure-exit]")).to_have_text("3")
    expect(page.locator("[data-failure-tail]")).to_contain_text("fixed.txt is missing")
    expect(step(page, "run_setup")).to_have_class("failed")
    full = page.locator("[data-full-log]")
    full.locator("summary").click()
    expect(full.locator("[data-log-text]")).to_contain_text("checking the fixture")
    expect(page.locator("[data-rollback]")).to_be_visible()

    Path(cell["worktreePath"], "fixed.txt").write_text("repaired\n")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("[data-cell-status]")).to_have_text("ready")
    expect(page.locator("[data-worktree]")).to_have_text(cell["worktreePath"])
    assert hive.cell(cell["id"])["attempt"] == 2


def test_cancel_during_a_long_setup_leaves_the_cell_as_the_api_says(cell_ui: UI) -> None:
    hive = cell_ui.hive
    cell = hive.create("cancelled", "held")
    page = cell_ui.go(f"/cells/{cell['id']}")
    expect(step(page, "run_setup")).to_have_class("running")

    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("[data-cell-status]")).to_have_text("error")
    expect(page.locator("#failure-title")).to_contain_text("Provisioning was cancelled")
    after = hive.cell(cell["id"])
    assert after["status"] == "error" and after["lastSetupError"]["kind"] == "cancelled"
    for undo in after["lastSetupError"]["rollback"]:
        expect(page.locator("[data-rollback]")).to_contain_text(f"{undo['step']}: {undo['status']}")
    expect(page.locator("[data-failure-message]")).to_have_text(after["lastSetupError"]["message"])
    expect(page.get_by_role("button", name="Retry")).to_be_enabled()


def test_a_ready_cell_shows_its_services_and_stop_and_start_work(cell_ui: UI) -> None:
    hive = cell_ui.hive
    cell = hive.settle(hive.create("served", "web", description="Fix the login form")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    service = hive.http.get(f"/api/cells/{cell['id']}/services").json()["services"][0]
    page = cell_ui.go(f"/cells/{cell['id']}")

    row = page.locator("[data-service='web']")
    expect(row.locator("[data-service-status]")).to_have_text("ready")
    expect(row.locator("[data-port]")).to_have_text(str(service["port"]))
    expect(row.get_by_role("link")).to_have_attribute("href", service["url"])
    expect(page.locator("[data-branch]")).to_have_text(cell["branchName"])
    copy = page.get_by_role("button", name="Copy the worktree path")
    expect(copy).to_have_attribute("data-copy", cell["worktreePath"])
    expect(page.locator("[data-prompt]")).to_contain_text("Fix the login form")
    assert "s3cret-value" not in page.content(), "a secret env value is on the page"

    row.get_by_role("button", name="Stop web").click()
    expect(row.locator("[data-service-status]")).to_have_text("stopped")
    assert hive.http.get(f"/api/cells/{cell['id']}/services").json()["services"][0]["status"] == (
        "stopped"
    )
    row.get_by_role("button", name="Start web", exact=True).click()
    expect(row.locator("[data-service-status]")).to_have_text("ready")
    # The log is followed live: the second start's lines arrive without a reload.
    log = page.locator("[data-service-log='web']")
    expect(log).to_have_text(
        re.compile(rf"(\[hive\] started.*\nweb listening on {service['port']}\n?){{2}}")
    )


def test_an_unknown_cell_is_a_404_page_with_the_message(cell_ui: UI) -> None:
    response = cell_ui.page.goto(f"{cell_ui.hive.url}/cells/nonesuch")
    assert response is not None and response.status == 404
    expect(cell_ui.page.get_by_role("heading", level=1)).to_contain_text("nonesuch")


def test_a_ready_cell_shows_its_agent_and_sends_it_a_message(cell_ui: UI) -> None:
    hive = cell_ui.hive
    cell = hive.settle(hive.create("talker", "agent")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    page = cell_ui.go(f"/cells/{cell['id']}")

    expect(page.locator("[data-attach]")).to_have_text(cell["agent"]["attach"])
    expect(page.locator("[data-agent-status]")).to_have_text(cell["agent"]["status"])
    page.get_by_label("Message to the agent").fill("please add a test")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-sent]")).to_have_text("sent")
    heard = Path(cell["worktreePath"], "agent-heard.txt")
    hive.wait_for(
        cell["id"], lambda _c: heard.exists() and "please add a test" in heard.read_text()
    )
    # It ended: the page says so as the API learns it, without a reload.
    expect(page.locator("[data-agent-status]")).to_have_text("stopped")
    assert hive.cell(cell["id"])["agent"]["status"] == "stopped"


def test_archive_restore_and_delete_from_the_page(cell_ui: UI) -> None:
    hive = cell_ui.hive
    cell = hive.settle(hive.create("short-lived", "web")["id"])
    page = cell_ui.go(f"/cells/{cell['id']}")

    page.evaluate("window.notReloaded = true")
    # Archived elsewhere (as `hive archive` does): the page follows.
    assert hive.http.post(f"/api/cells/{cell['id']}/archive").status_code == 200
    expect(page.locator("[data-cell-status]")).to_have_text("archived")
    assert page.evaluate("window.notReloaded") is True
    page.get_by_role("button", name="Restore").click()
    expect(page.locator("[data-cell-status]")).to_have_text("ready")

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/$"))
    assert "short-lived" in asked[0]
    assert hive.http.get(f"/api/cells/{cell['id']}").status_code == 404


def test_a_cell_deleted_elsewhere_says_so_on_its_page(cell_ui: UI) -> None:
    hive = cell_ui.hive
    cell = hive.settle(hive.create("doomed", "web")["id"])
    page = cell_ui.go(f"/cells/{cell['id']}")
    expect(page.locator("[data-cell-status]")).to_have_text("ready")

    assert hive.http.delete(f"/api/cells/{cell['id']}").status_code == 200  # `hive rm`
    expect(page.get_by_role("heading", name="This cell was deleted")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the cells")).to_have_attribute("href", "/")


def test_open_service_logs_are_followed_two_at_a_time(cell_ui: UI) -> None:
    hive = cell_ui.hive
    cell = hive.settle(hive.create("three", "trio")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    page = cell_ui.go(f"/cells/{cell['id']}")
    logs = page.locator("details.service-log")
    expect(logs).to_have_count(3)
    expect(logs.nth(2)).not_to_have_attribute("open", "")

    logs.nth(0).locator("summary").click()  # closed: its follower makes room
    logs.nth(2).locator("summary").click()  # opened: followed from now on
    row = page.locator("[data-service='queue']")
    row.get_by_role("button", name="Restart queue").click()
    expect(page.locator("[data-service-log='queue']")).to_have_text(
        re.compile(r"(\[hive\] started.*\nqueue listening on \d+\n?){2}")
    )
