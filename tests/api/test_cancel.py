"""`POST /api/cells/{id}/cancel`: a running provisioning stops at once, its setup
process group with it, its ports go back, the worktree stays; nothing to cancel is 409."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psutil
import pytest

from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive


@pytest.fixture
def slow_hive(start_hive: Callable[..., LiveHive], tmp_path: Path) -> LiveHive:
    template = basic_template(
        # The sleep's pid is the shell's (exec): the test can tell whether it is gone.
        setup=['echo $$ > "$HIVE_CELL_PATH.pid"; exec sleep 60'],
        services={"web": {"run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"}},
    )
    return start_hive([make_repo(tmp_path / "repo", {"basic": template})])


def leases(hive: LiveHive, cell_id: str) -> list[int]:
    with closing(sqlite3.connect(hive.settings.database_path)) as db:
        rows = db.execute("SELECT port FROM port_leases WHERE cell_id = ?", (cell_id,))
        return [port for (port,) in rows]


def test_cancel_during_a_long_setup_command_stops_it_and_releases_ports(
    slow_hive: LiveHive,
) -> None:
    hive = slow_hive
    cell = hive.create("changed my mind")
    pid_file = Path(cell["worktreePath"] + ".pid")
    hive.wait_for(cell["id"], lambda _c: pid_file.exists() and pid_file.read_text().strip() != "")
    sleeper = psutil.Process(int(pid_file.read_text()))
    assert leases(hive, cell["id"]), "ports are leased before setup runs"

    answer = hive.http.post(f"/api/cells/{cell['id']}/cancel")
    assert answer.status_code == 200, answer.text
    cancelled = answer.json()
    assert cancelled["status"] == "error"
    failure = cancelled["lastSetupError"]
    assert "cancelled" in failure["message"] and failure["step"] == "run_setup"
    assert failure["kind"] == "cancelled"
    assert [undo["step"] for undo in failure["rollback"]] == ["stop_services", "release_ports"]
    assert "hive retry" in failure["hint"]
    sleeper.wait(timeout=10)  # gone: the answer came after its group was stopped
    assert leases(hive, cell["id"]) == []
    assert Path(cancelled["worktreePath"], "README.md").exists(), "the worktree is kept"

    again = hive.http.post(f"/api/cells/{cell['id']}/cancel")
    assert again.status_code == 409
    assert "no provisioning is running" in again.json()["message"]


def test_cancel_of_a_ready_or_unknown_cell_is_refused(hive: LiveHive) -> None:
    cell = hive.settle(hive.create("done")["id"])
    assert cell["status"] == "ready"
    refused = hive.http.post(f"/api/cells/{cell['id']}/cancel")
    assert refused.status_code == 409 and "is ready" in refused.json()["message"]
    assert hive.http.get(f"/api/cells/{cell['id']}").json()["status"] == "ready"
    assert hive.http.post("/api/cells/nope/cancel").status_code == 404
