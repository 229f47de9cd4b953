"""`/resources`: every cell's CPU, memory and disk with its last hour, sortable by each
column, and the room left where cells live; in a real browser on a live server."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from hive.core.sizes import GB
from tests.api.test_low_disk import FakeDisk
from tests.api.test_resource_history import HOLD
from tests.support.repos import basic_template, make_repo
from tests.support.ui import UI

#: Waits that span a few of the page's timer refreshes (every 2 s here).
REFRESHED = 20_000


def test_cells_figures_sparklines_sorting_and_free_space(
    open_ui: Callable[..., UI], tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "small": basic_template(
                id="small", setup=[], services={"nap": {"run": "exec sleep 600"}}
            ),
            "big": basic_template(id="big", setup=[], services={"hold": {"run": HOLD}}),
        },
    )
    ui = open_ui([repo], sample_interval_s=0.2, free_space=FakeDisk(free=50 * GB, total=200 * GB))
    # alpha holds 30 MB, beta next to nothing: memory smallest first reverses the names.
    big = ui.hive.settle(ui.create("alpha", template="big")["id"])
    small = ui.hive.settle(ui.create("beta", template="small")["id"])
    assert big["status"] == small["status"] == "ready"

    page = ui.go("/resources")
    expect(page.get_by_role("heading", name="Resources", exact=True)).to_be_visible()
    root = re.escape(str(ui.hive.settings.worktrees_root))
    expect(page.locator("#free-space")).to_have_text(
        re.compile(rf"50 GB free of 200 GB \(25%\) on the file system of {root}")
    )
    rows = page.locator("#resource-table tbody tr")
    expect(rows).to_have_count(2)
    alpha, beta = rows.nth(0), rows.nth(1)
    expect(alpha).to_contain_text("alpha")
    # Sampled every 0.2 s and refreshed on the page's timer: figures and a last hour come.
    for row in (alpha, beta):
        cells = {col: row.locator(f"td[data-col={col}]") for col in ("cpu", "memory", "disk")}
        expect(cells["cpu"]).to_have_text(re.compile(r"^\s*\d+\.\d %"), timeout=REFRESHED)
        expect(cells["memory"]).to_have_text(
            re.compile(r"^\s*\d+(\.\d)? [kMG]B"), timeout=REFRESHED
        )
        expect(cells["disk"]).to_have_text(re.compile(r"^\s*\d+(\.\d)? [kMG]?B"), timeout=REFRESHED)
        for metric in ("cpu", "memory"):
            expect(row.locator(f"svg.spark[data-metric={metric}] polyline")).to_have_attribute(
                "points", re.compile(r"^[\d.]+,[\d.]+( [\d.]+,[\d.]+)+$"), timeout=REFRESHED
            )
    expect(alpha.locator("td[data-col=memory]")).to_have_text(
        re.compile(r"^\s*\d+ MB"), timeout=REFRESHED
    )

    names = page.locator("#resource-table tbody tr td:first-child a")
    expect(names).to_have_text(["alpha", "beta"])
    memory = page.locator("th[data-key=memory]")
    memory.get_by_role("button").click()
    expect(memory).to_have_attribute("aria-sort", "descending")
    expect(page.locator("th[data-key=name]")).to_have_attribute("aria-sort", "none")
    expect(names).to_have_text(["alpha", "beta"])  # biggest first: alpha holds 30 MB
    memory.get_by_role("button").click()
    expect(memory).to_have_attribute("aria-sort", "ascending")
    expect(names).to_have_text(["beta", "alpha"])
    # The order outlives the timer's refresh of the table.
    page.locator("#resource-table").evaluate("table => { table.dataset.old = 'yes'; }")
    expect(page.locator("#resource-table[data-old]")).to_have_count(0, timeout=REFRESHED)
    expect(memory).to_have_attribute("aria-sort", "ascending")
    expect(names).to_have_text(["beta", "alpha"])
    page.locator("th[data-key=name]").get_by_role("button").click()
    expect(names).to_have_text(["alpha", "beta"])
