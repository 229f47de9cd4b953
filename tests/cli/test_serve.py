"""`hive serve` as a real process: it registers the repository, and a killed server's
cells and processes are put right by the next one."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import psutil

from tests.support.repos import basic_template, make_repo
from tests.support.served import auth_of, free_port, serving


def _alive(pid: int) -> bool:
    """Running, not just a zombie that its new parent (init) has yet to reap."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _wait(predicate: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_killed_server_leaves_no_orphan_and_the_cell_resumes_on_its_own(tmp_path: Path) -> None:
    marker, daemon = tmp_path / "setup.pid", tmp_path / "daemon.pid"
    # The daemon leaves the setup command's process group and session (`setsid`).
    leave = f"setsid sh -c 'echo $$ > {daemon}; exec sleep 300' &"
    setup = [f"{leave} until [ -s {daemon} ]; do sleep 0.01; done; echo $$ > {marker}; sleep 300"]
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=setup)})
    home, port = tmp_path / "home", free_port()
    url = f"http://127.0.0.1:{port}"

    with serving(repo, home, port) as server:
        # The token outlives the server: the same client works with the next one.
        http = httpx.Client(base_url=url, headers=auth_of(home))
        [workspace] = http.get("/api/workspaces").json()["workspaces"]
        assert workspace["path"] == str(repo)
        body = {"workspaceId": workspace["id"], "templateId": "basic", "name": "victim"}
        cell = http.post("/api/cells", json=body).json()
        _wait(lambda: marker.exists() and marker.read_text().strip())
        setup_pid, daemon_pid = int(marker.read_text()), int(daemon.read_text())
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    assert _alive(setup_pid), "a killed server cannot stop its children itself"

    with serving(repo, home, port), closing(http):
        assert not _alive(setup_pid), "the restarted server stops the orphaned setup"
        assert not _alive(daemon_pid), "and what the setup started outside its group"
        # Resumed from its checkpoint as a new run: the setup runs again.
        again = http.get(f"/api/cells/{cell['id']}").json()
        assert again["status"] == "spawning" and again["attempt"] == 2
        assert again["runId"] not in (None, cell["runId"])
        _wait(lambda: int(marker.read_text() or 0) not in (0, setup_pid))
        resumed_pid = int(marker.read_text())
        deleted = http.delete(f"/api/cells/{cell['id']}")
        assert deleted.status_code == 200
        assert not _alive(resumed_pid)
        assert not Path(cell["workspacePath"]).exists()


def _printed_url(server: subprocess.Popen[bytes]) -> str:
    """The URL on the `Hive …` line, printed before the server starts listening."""
    assert server.stderr is not None
    for line in iter(server.stderr.readline, b""):
        if line.startswith(b"Hive "):
            return line.decode().split()[1]
    raise AssertionError("serve printed no `Hive` line")


def test_serve_prints_the_url_with_the_token_and_it_opens_the_web_ui(tmp_path: Path) -> None:
    repo, home, port = make_repo(tmp_path / "repo"), tmp_path / "home", free_port()
    with serving(repo, home, port) as server:
        printed = _printed_url(server)
        token = (home / "token").read_text().strip()
        assert printed == f"http://127.0.0.1:{port}/?token={token}"
        with httpx.Client(follow_redirects=True) as browser:
            landed = browser.get(printed)
        assert landed.status_code == 200 and str(landed.url) == f"http://127.0.0.1:{port}/"
        assert "<h1>Cells</h1>" in landed.text


def test_serve_uses_hive_token_over_the_file(tmp_path: Path) -> None:
    repo, home, port = make_repo(tmp_path / "repo"), tmp_path / "home", free_port()
    home.mkdir(mode=0o700)
    (home / "token").write_text("the-file-token\n")
    with serving(repo, home, port, HIVE_TOKEN="the-env-token") as server:
        assert _printed_url(server) == f"http://127.0.0.1:{port}/?token=the-env-token"
        api = f"http://127.0.0.1:{port}/api/workspaces"
        assert httpx.get(api, headers={"Authorization": "Bearer the-env-token"}).is_success
        refused = httpx.get(api, headers={"Authorization": "Bearer the-file-token"})
        assert refused.status_code == 401 and "HIVE_TOKEN" in refused.json()["hint"]
