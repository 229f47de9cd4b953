"""Archive and restore through a real server: an archived cell holds no process and no
port but keeps its worktree and branch; a restore brings its services back on their
old ports without running setup again."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psutil
import pytest

from tests.support.cli import hive_cli
from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive

SERVED = basic_template(
    setup=['echo ran >> "$HIVE_CELL_PATH.setup-runs"'],
    services={"web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"}},
)


@pytest.fixture
def served_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"basic": SERVED})


@pytest.fixture
def served(start_hive: Callable[..., LiveHive], served_repo: Path) -> LiveHive:
    return start_hive([served_repo])


def leases(hive: LiveHive, cell_id: str) -> list[int]:
    with closing(sqlite3.connect(hive.settings.database_path)) as db:
        rows = db.execute("SELECT port FROM port_leases WHERE cell_id = ?", (cell_id,))
        return [port for (port,) in rows]


def web(hive: LiveHive, cell_id: str) -> dict[str, object]:
    [service] = hive.http.get(f"/api/cells/{cell_id}/services").json()["services"]
    return dict(service)


def test_archive_frees_ports_keeps_the_worktree_and_restore_brings_services_back(
    served: LiveHive, served_repo: Path
) -> None:
    hive = served
    cell = hive.settle(hive.create("put away")["id"])
    assert cell["status"] == "ready"
    before = web(hive, cell["id"])
    process = psutil.Process(int(str(before["pid"])))

    archived = hive.http.post(f"/api/cells/{cell['id']}/archive")
    assert archived.status_code == 200, archived.text
    assert archived.json()["status"] == "archived"
    process.wait(timeout=10)  # gone by the time the answer came
    assert leases(hive, cell["id"]) == []
    assert Path(cell["worktreePath"], "README.md").exists()
    branches = subprocess.run(
        ["git", "-C", str(served_repo), "branch", "--list", cell["branchName"]],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert cell["branchName"] in branches
    refused = hive.http.post(f"/api/cells/{cell['id']}/services/web/start")
    assert refused.status_code == 409 and "archived" in refused.json()["message"]
    steps = hive.http.get(f"/api/cells/{cell['id']}/timings").json()["steps"]
    archive_steps = [s["step"] for s in steps if s["workflow"] == "archive"]
    assert archive_steps == ["close_agent_session", "stop_services", "release_ports"]

    restored = hive.http.post(f"/api/cells/{cell['id']}/restore")
    assert restored.status_code == 202, restored.text
    assert restored.json()["status"] == "spawning"
    cell = hive.settle(cell["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    after = web(hive, cell["id"])
    assert after["status"] == "ready" and after["port"] == before["port"]
    assert after["pid"] != before["pid"] and psutil.pid_exists(int(str(after["pid"])))
    assert leases(hive, cell["id"]) == [before["port"]]
    runs = Path(cell["worktreePath"] + ".setup-runs").read_text().splitlines()
    assert runs == ["ran"], "a restore does not run setup again"


def test_only_ready_cells_archive_and_only_archived_ones_restore(served: LiveHive) -> None:
    hive = served
    cell = hive.settle(hive.create("stays")["id"])
    again = hive.http.post(f"/api/cells/{cell['id']}/restore")
    assert again.status_code == 409 and "only an archived cell" in again.json()["message"]
    assert hive.http.post(f"/api/cells/{cell['id']}/archive").status_code == 200
    twice = hive.http.post(f"/api/cells/{cell['id']}/archive")
    assert twice.status_code == 409 and "only a ready cell" in twice.json()["message"]
    assert hive.http.post("/api/cells/nope/archive").status_code == 404


def test_cli_archive_restore_and_cleanup(served: LiveHive, served_repo: Path) -> None:
    hive = served
    cell = hive.settle(hive.create("cli")["id"])
    out = hive_cli("archive", cell["id"][:8], hive=hive, cwd=served_repo)
    assert out.returncode == 0 and "archived cell" in out.stdout, out.stderr
    out = hive_cli("restore", cell["id"][:8], hive=hive, cwd=served_repo)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "✓ ensure_services" in out.stdout and "ready" in out.stdout
    assert "✓ run_setup" not in out.stdout

    assert hive_cli("archive", cell["id"][:8], hive=hive, cwd=served_repo).returncode == 0
    listed = hive_cli("cleanup", "--archived-before", "0s", hive=hive, cwd=served_repo)
    assert listed.returncode == 0 and cell["id"][:12] in listed.stdout
    assert "--apply" in listed.stdout
    assert hive.cell(cell["id"])["status"] == "archived", "a listing deletes nothing"
    none = hive_cli("cleanup", "--archived-before", "30d", hive=hive, cwd=served_repo)
    assert "no cell archived before" in none.stdout
    applied = hive_cli("cleanup", "--archived-before", "0s", "--apply", hive=hive, cwd=served_repo)
    assert applied.returncode == 0 and f"deleted cell {cell['id']}" in applied.stdout
    assert hive.http.get(f"/api/cells/{cell['id']}").status_code == 404
    bad = hive_cli("cleanup", "--archived-before", "soon", hive=hive, cwd=served_repo)
    assert bad.returncode == 2 and "--archived-before" in bad.stdout
