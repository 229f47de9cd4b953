"""What Hive writes that may hold secrets is for its user only: $HIVE_HOME 0700, the
database, logs and a cell's `.hive/` files 0600; the worktree itself keeps normal modes."""

from __future__ import annotations

import stat
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from hive.settings import Settings
from tests.api.test_services import repo_with
from tests.support.server import LiveHive


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for every thread)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    raise AssertionError("no Umask line in /proc/self/status")


def test_state_files_are_private_and_worktree_files_are_not_changed(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    services = {"web": {"run": f"{sys.executable} service_app.py web $PORT"}}
    repo = repo_with(tmp_path, services, setup=["echo set up"])
    hive = start_hive([repo])
    cell = hive.settle(hive.create("private")["id"])
    assert cell["status"] == "ready", cell
    home, worktree = hive.settings.hive_home, Path(cell["workspacePath"])

    assert _mode(home) == 0o700
    database = hive.settings.database_path
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        assert _mode(path) == 0o600, path
    logs = hive.settings.logs_root / cell["id"]
    assert _mode(hive.settings.logs_root) == 0o700 and _mode(logs) == 0o700
    assert _mode(logs / "setup.log") == 0o600 and _mode(logs / "web.log") == 0o600
    assert "s3cret-value" in (worktree / ".hive" / "env").read_text()
    assert _mode(worktree / ".hive") == 0o700
    assert _mode(worktree / ".hive" / "env") == 0o600
    assert _mode(worktree / ".hive" / "cell.json") == 0o600

    normal = 0o666 & ~_umask()
    assert _mode(worktree / "README.md") == normal, "a checkout keeps the user's umask"
    assert _mode(worktree / ".env") == _mode(repo / ".env"), "include-copy keeps modes"
    hive.http.delete(f"/api/cells/{cell['id']}")


def test_the_token_is_in_no_file_hive_writes_but_its_own(hive: LiveHive) -> None:
    # Present it every way a client can, right and wrong, then look everywhere.
    with httpx.Client(base_url=hive.url, follow_redirects=True) as browser:
        browser.get("/", params={"token": hive.token})
        browser.get("/api/workspaces")
    httpx.get(f"{hive.url}/docs", params={"token": hive.token + "x"})
    cell = hive.settle(hive.create("looked at")["id"])
    hive.http.get(f"/api/cells/{cell['id']}/timings")
    hive.stop()  # the database's WAL is written back
    home = hive.settings.hive_home
    written = [p for p in home.rglob("*") if p.is_file() and p != hive.settings.token_path]
    assert any(p.name == "setup.log" for p in written)
    for path in written:
        assert hive.token.encode() not in path.read_bytes(), path


def test_state_left_loose_by_an_older_hive_is_tightened_at_start(
    start_hive: Callable[..., LiveHive], settings: Settings, repo: Path
) -> None:
    settings.logs_root.mkdir(parents=True, mode=0o755)
    for directory in (settings.hive_home, settings.logs_root):
        directory.chmod(0o755)
    for name in ("hive.db", "hive.db-wal", "hive.db-shm"):
        (settings.hive_home / name).touch(mode=0o644)
        (settings.hive_home / name).chmod(0o644)
    hive = start_hive([repo])
    assert hive.http.get("/api/workspaces").json()["workspaces"], "the database works"
    assert _mode(settings.hive_home) == 0o700 and _mode(settings.logs_root) == 0o700
    for name in ("hive.db", "hive.db-wal", "hive.db-shm"):
        assert _mode(settings.hive_home / name) == 0o600, name
