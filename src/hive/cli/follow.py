"""Follow a cell's provisioning live: print each step as its timing row lands."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from hive.cli.client import HiveClient
from hive.cli.render import print_setup_error, step_line

SETTLED = frozenset({"ready", "error", "archived"})


def follow_cell(
    client: HiveClient,
    console: Console,
    cell_id: str,
    *,
    poll_s: float = 0.25,
    since_run: str | None = None,
) -> dict[str, Any]:
    """Poll until the cell settles; returns the final cell. Shows only the latest run."""
    seen: set[int] = set()
    while True:
        cell: dict[str, Any] = client.get(f"/api/cells/{cell_id}")
        timings = client.get(f"/api/cells/{cell_id}/timings")
        run_ids = [run["runId"] for run in timings["runs"]]
        current = since_run or (run_ids[-1] if run_ids else None)
        for step in timings["steps"]:
            if step["id"] in seen or step["runId"] != current:
                continue
            seen.add(step["id"])
            console.print(step_line(step))
        if cell["status"] in SETTLED:
            break
        time.sleep(poll_s)
    if cell["status"] == "ready":
        console.print(f"[green bold]ready[/]  {cell['workspacePath']}")
    elif cell.get("lastSetupError"):
        print_setup_error(console, cell["lastSetupError"])
    return cell
