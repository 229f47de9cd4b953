"""`/timings` and `/cells/{id}/timings` in a real browser on a live server: filters kept
in the URL, the summary and steps they choose, new steps arriving live, a cell's
waterfall, before and after the cell is deleted."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.repos import basic_template, make_repo
from tests.support.ui import UI


@pytest.fixture
def timings_ui(open_ui: Callable[..., UI], tmp_path: Path) -> UI:
    """Two templates with a ready cell each, and a template whose setup fails."""
    repo = make_repo(
        tmp_path / "repo",
        {
            "alpha": basic_template(id="alpha", label="Alpha"),
            "beta": basic_template(id="beta", label="Beta", setup=["true", "true"]),
            "broken": basic_template(id="broken", setup=["echo no luck >&2; exit 3"]),
        },
    )
    ui = open_ui([repo])
    for name, template in (("a-one", "alpha"), ("b-one", "beta"), ("x-one", "broken")):
        ui.hive.settle(ui.create(name, template=template)["id"])
    return ui


def step_rows(page: Page) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = page.locator("#timing-steps tbody tr").evaluate_all(
        "rows => rows.map(r => ({...r.dataset}))"
    )
    return rows


def test_filter_by_template_keeps_it_in_the_url_and_changes_the_summary(timings_ui: UI) -> None:
    page = timings_ui.go("/timings")
    summary = page.locator("#timing-summary [data-template]")
    expect(summary).to_have_count(3)
    assert {row["template"] for row in step_rows(page)} == {"alpha", "beta", "broken"}

    page.get_by_label("Template", exact=True).select_option("beta")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/timings\?.*templateId=beta"))
    expect(summary).to_have_count(1)
    expect(summary).to_have_attribute("data-template", "beta")
    # beta's setup runs two commands: its own sub-steps are in its summary.
    expect(summary.locator("tr[data-step='run_setup:2']")).to_have_count(1)
    rows = step_rows(page)
    assert rows and {row["template"] for row in rows} == {"beta"}

    page.reload()  # the URL carries the filter: the form and the rows come back alike
    expect(page.get_by_label("Template", exact=True)).to_have_value("beta")
    assert {row["template"] for row in step_rows(page)} == {"beta"}
    page.get_by_role("link", name="Clear").click()
    expect(summary).to_have_count(3)


def test_filter_by_step_and_status_and_metadata_is_readable(timings_ui: UI) -> None:
    page = timings_ui.go("/timings")
    page.get_by_label("Step", exact=True).select_option("run_setup")
    page.get_by_label("Status", exact=True).select_option("error")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"step=run_setup.*status=error"))
    [row] = step_rows(page)
    assert (row["template"], row["step"], row["status"]) == ("broken", "run_setup", "error")
    expect(page.locator("#timing-steps tbody tr .errors")).to_contain_text("exit")
    stats = page.locator("#timing-summary tr[data-step]")
    expect(stats).to_have_count(1)
    expect(stats).to_contain_text("100.0 %")

    page.get_by_label("Status", exact=True).select_option("ok")
    page.get_by_role("button", name="Apply").click()
    rows = step_rows(page)
    assert len(rows) == 2 and {r["template"] for r in rows} == {"alpha", "beta"}
    assert {(r["step"], r["status"]) for r in rows} == {("run_setup", "ok")}

    # The include-copy's metadata in words: how many files, reflinked or copied.
    page.get_by_label("Step", exact=True).select_option("create_worktree:include_copy")
    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_role("button", name="Apply").click()
    first = page.locator("#timing-steps tbody tr").first.locator("details")
    expect(first.locator("summary")).to_have_text(
        re.compile(r"^copy: 1 file, all (reflinked|copied)")
    )
    first.locator("summary").click()
    expect(first.locator("dl")).to_contain_text("patterns")
    expect(first.locator("dl")).to_contain_text("./.env*")


def test_time_range_and_bad_bounds_named_beside_their_field(timings_ui: UI) -> None:
    page = timings_ui.go("/timings?since=1h")
    expect(page.get_by_label("Since", exact=True)).to_have_value("1h")
    expect(page.locator("#timing-steps tbody tr").first).to_be_visible()
    page = timings_ui.go("/timings?until=1h")  # everything happened within the hour
    expect(page.locator("#timing-steps")).to_have_count(0)
    expect(page.get_by_text("No steps match these filters.")).to_be_visible()

    page = timings_ui.go("/timings?since=yesterday")
    since = page.get_by_label("Since", exact=True)
    expect(since).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-since-error")).to_contain_text("neither an ISO 8601 timestamp")
    expect(page.locator("#timing-errors")).to_be_visible()


def test_new_steps_appear_without_reload(timings_ui: UI) -> None:
    page = timings_ui.go("/timings?templateId=alpha")
    expect(page.locator("[data-live-state]")).to_have_text("live")
    names = page.locator("#timing-steps tbody tr td:nth-child(2) a")
    expect(names.filter(has_text="a-two")).to_have_count(0)
    timings_ui.hive.settle(timings_ui.create("a-two", template="alpha")["id"])
    expect(names.filter(has_text="a-two").first).to_be_visible()
    expect(page.locator("#timing-steps tbody tr").first).to_contain_text("a-two")
    timings_ui.create("b-two", template="beta")  # another template: not on this page
    expect(page.locator("#timing-summary [data-template]")).to_have_count(1)


def test_a_cells_waterfall_also_after_it_is_deleted(timings_ui: UI) -> None:
    hive = timings_ui.hive
    cells = {c["name"]: c for c in hive.http.get("/api/cells").json()["cells"]}
    page = timings_ui.go(f"/cells/{cells['a-one']['id']}/timings")
    expect(page.get_by_role("heading", name="Timings of a-one")).to_be_visible()
    bars = page.locator("#timing-waterfall .bar-row")
    for step in ("create_worktree", "run_setup", "mark_ready"):
        expect(bars.filter(has=page.locator(f"text='{step}'"))).to_have_count(1)
        expect(page.locator(f"#timing-waterfall .bar-row[data-step='{step}'] .bar")).to_be_visible()
    expect(page.locator("#timing-waterfall .bar.critical").first).to_be_visible()
    expect(page.locator("#timing-waterfall .bar.failed")).to_have_count(0)
    # Bars stand where their steps began: each later step starts further right.
    lefts = page.locator("#timing-waterfall .bar-row:not([data-step*=':']) .bar").evaluate_all(
        "bars => bars.map(b => parseFloat(b.style.left))"
    )
    assert lefts == sorted(lefts) and lefts[0] == 0 and lefts[-1] > 0
    # Only this cell's steps, and the filter form has no cell to choose.
    assert {row["template"] for row in step_rows(page)} == {"alpha"}
    expect(page.get_by_label("Cell", exact=True)).to_have_count(0)

    broken = cells["x-one"]["id"]
    page = timings_ui.go(f"/cells/{broken}/timings")
    expect(page.locator("#timing-waterfall .bar-row[data-step='run_setup'] .bar")).to_have_class(
        re.compile(r"\bfailed\b")
    )

    assert hive.http.delete(f"/api/cells/{broken}").status_code == 200
    page = timings_ui.go(f"/cells/{broken}/timings")
    expect(page.get_by_role("heading", name=re.compile("Timings of x-one"))).to_contain_text(
        "deleted"
    )
    runs = page.locator("#timing-waterfall .waterfall h3")
    expect(runs).to_have_count(2)
    expect(runs.first).to_contain_text("delete")
    failed = page.locator("#timing-waterfall .bar-row:has(.bar.failed)")
    expect(failed).to_have_count(2)
    steps = failed.evaluate_all("rows => rows.map(r => r.dataset.step)")
    assert sorted(steps) == ["run_setup", "run_setup:1"]  # the step and its failed command
    expect(page.locator("#timing-waterfall .bar-row[data-step='remove_workspace']")).to_have_count(
        1
    )
    never = timings_ui.page.goto(f"{hive.url}/cells/{'0' * 32}/timings")
    assert never is not None and never.status == 404
    # Deleted cells stay choosable on /timings.
    page = timings_ui.go("/timings")
    expect(
        page.get_by_label("Cell", exact=True).locator("option", has_text="x-one (deleted)")
    ).to_have_count(1)
