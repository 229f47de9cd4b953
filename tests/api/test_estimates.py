"""Templates' estimates through the real server: the config's footprint with no history,
then a second cell of the template carrying the first cell's measured figures (its run
and its disk measured by Hive; its memory and CPU written here, as the sampler would)."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_disk import disk_of
from tests.support.cli import hive_cli
from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive

APP = Path(__file__).parents[1] / "support" / "service_app.py"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    services = {
        "web": {"run": f"{sys.executable} service_app.py web $PORT", "ready": {"http": "/health"}},
        "worker": {"run": "sleep 600"},
    }
    templates: dict[str, Any] = {
        "basic": basic_template(setup=["echo set up"], services=services),
        "broken": {"id": "broken", "label": "Broken", "type": "manual", "setup": 5},
    }
    repo = make_repo(tmp_path / "repo", templates)
    shutil.copy(APP, repo / "service_app.py")
    git(repo, "add", "service_app.py")
    git(repo, "commit", "-q", "-m", "service app")
    return repo


def estimates(hive: LiveHive) -> dict[str, Any]:
    body = hive.http.get("/api/templates", params={"workspaceId": hive.workspace_id()}).json()
    return {t["id"]: t["estimate"] for t in body["templates"]}


def create_run_total(hive: LiveHive, cell_id: str) -> float:
    runs = hive.http.get(f"/api/cells/{cell_id}/timings").json()["runs"]
    [run] = [r for r in runs if r["workflow"] == "create"]
    return float(run["totalMs"])


def ready_and_measured(hive: LiveHive, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    cell = hive.settle(hive.create(name)["id"])
    assert cell["status"] == "ready", cell
    return cell, disk_of(hive, cell["id"])


def test_a_second_cell_carries_an_estimate_near_the_first_cells_figures(
    start_hive: Callable[..., LiveHive], repo: Path
) -> None:
    hive = start_hive([repo], service_start_grace_s=0.2)
    before = estimates(hive)
    assert before["broken"] is None, "an invalid template's footprint is unknown"
    assert before["basic"] == {
        "basis": "none",
        "provisioningMs": None,
        "peakMemoryBytes": None,
        "cpuPercent": None,
        "diskAddedBytes": None,
        "services": 2,
        "ports": 1,
    }
    shown = hive_cli("templates", cwd=repo, hive=hive)
    assert "no history (2 services, 1 port)" in shown.stdout, shown.stdout + shown.stderr

    first, first_disk = ready_and_measured(hive, "first")
    first_total = create_run_total(hive, first["id"])
    # Deleted, its history stays; what the resource sampler measures is written here.
    assert hive.http.delete(f"/api/cells/{first['id']}").status_code == 200
    with closing(sqlite3.connect(hive.settings.database_path, timeout=10)) as db, db:
        db.execute(
            "UPDATE cell_footprints SET peak_rss_bytes = ?, cpu_sum = ?, cpu_samples = ? "
            "WHERE cell_id = ?",
            (60_000_000, 30.0, 10, first["id"]),
        )

    estimate = estimates(hive)["basic"]
    basis = estimate["basis"]
    assert basis["cells"] == 1 and basis["newest"] >= basis["oldest"] > first["createdAt"]
    assert estimate["provisioningMs"]["p50"] == pytest.approx(first_total, abs=0.01)
    assert estimate["provisioningMs"]["p90"] == pytest.approx(first_total, abs=0.01)
    assert estimate["diskAddedBytes"]["p50"] == first_disk["addedBytes"]
    assert estimate["peakMemoryBytes"]["p50"] == 60_000_000
    assert estimate["cpuPercent"]["p50"] == 3.0
    assert estimate["diskAddedBytes"]["basis"]["cells"] == 1
    assert (estimate["services"], estimate["ports"]) == (2, 1)
    shown = hive_cli("templates", cwd=repo, hive=hive)
    assert "60 MB" in shown.stdout and "disk (1 cell)" in shown.stdout, shown.stdout

    second, second_disk = ready_and_measured(hive, "second")
    # The same template makes the same worktree: its disk is what the estimate said.
    said = estimate["diskAddedBytes"]["p50"]
    assert abs(second_disk["addedBytes"] - said) <= 0.25 * said
    totals = sorted([first_total, create_run_total(hive, second["id"])])
    now = estimates(hive)["basic"]
    assert now["provisioningMs"]["basis"]["cells"] == 2
    assert now["provisioningMs"]["p50"] == pytest.approx(totals[0], abs=0.01)
    assert now["provisioningMs"]["p90"] == pytest.approx(totals[1], abs=0.01)
    assert now["diskAddedBytes"]["basis"]["cells"] == 2
    assert now["basis"]["cells"] == 2
