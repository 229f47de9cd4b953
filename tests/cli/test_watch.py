"""`hive new` / `hive watch` following a cell's event stream: a line per step as it
ends, JSON lines for scripts, a live checklist on a terminal, a reconnect that misses
nothing after the server is killed, and Ctrl-C that asks before cancelling."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.support.cli import cli_env, hive_cli
from tests.support.repos import basic_template, make_repo
from tests.support.served import auth_of, free_port, serving
from tests.support.server import LiveHive

# Setup waits for a file the test makes: the cell is held in `run_setup` until then.
HELD = basic_template(setup=['while [ ! -f "$HIVE_CELL_PATH.go" ]; do sleep 0.02; done'])
STEP_LINES = ["✓ create_worktree", "✓ allocate_ports", "✓ run_setup", "✓ mark_ready"]


@pytest.fixture
def held_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "held", {"basic": HELD})


@pytest.fixture
def held_hive(start_hive: Callable[..., LiveHive], held_repo: Path) -> LiveHive:
    return start_hive([held_repo])


def release(hive: LiveHive | httpx.Client, cell_id: str) -> None:
    http = hive.http if isinstance(hive, LiveHive) else hive
    Path(http.get(f"/api/cells/{cell_id}").json()["worktreePath"] + ".go").touch()


@contextmanager
def running_cli(
    *args: str, cwd: Path, env: dict[str, str], stdin: bool = False
) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "hive", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def read_until(stream: IO[str], text: str) -> list[str]:
    """Lines up to the first one holding `text` (the process is waited for, not slept on)."""
    lines = []
    for line in stream:
        lines.append(line.rstrip("\n"))
        if text in line:
            return lines
    raise AssertionError(f"{text!r} never came; got {lines}")


def only_cell(http: LiveHive | httpx.Client) -> dict[str, Any]:
    client = http.http if isinstance(http, LiveHive) else http
    [cell] = client.get("/api/cells").json()["cells"]
    return dict(cell)


def test_new_prints_each_step_as_it_ends_while_the_cell_is_made(
    held_hive: LiveHive, held_repo: Path
) -> None:
    with running_cli("new", "basic", "live", cwd=held_repo, env=cli_env(held_hive)) as cli:
        assert cli.stdout is not None
        early = read_until(cli.stdout, "✓ allocate_ports")
        cell = only_cell(held_hive)
        assert cell["status"] == "spawning", "the line came while the cell was being made"
        release(held_hive, cell["id"])
        rest, _ = cli.communicate(timeout=60)
    assert cli.returncode == 0
    lines = early + rest.splitlines()
    for step in STEP_LINES:
        assert sum(line.strip().startswith(step + " ") for line in lines) == 1, (step, lines)
    assert lines[-1].startswith("ready") and cell["worktreePath"] in lines[-1]


def test_new_json_prints_the_events_as_json_lines(hive: LiveHive, repo: Path) -> None:
    out = hive_cli("new", "basic", "scripted", "--json", hive=hive, cwd=repo)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    ids = [event["id"] for event in events]
    assert ids == sorted(set(ids)) and all(isinstance(i, int) for i in ids)
    kinds = {event["event"] for event in events}
    assert {"cell", "timing"} <= kinds
    assert events[-1]["event"] == "cell"
    assert events[-1]["data"]["status"] == "ready" and events[-1]["data"]["settled"] is True


def test_watch_of_a_settled_cell_shows_its_outcome_and_exit_code(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    broken = basic_template(setup=["echo fine", "echo 'no such thing' >&2; exit 3"])
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(), "broken": broken})
    hive = start_hive([repo])
    good = hive.settle(hive.create("good")["id"])
    bad = hive.settle(hive.create("bad", template="broken")["id"])

    watched = hive_cli("watch", good["id"][:8], hive=hive, cwd=repo)
    assert watched.returncode == 0, watched.stderr
    assert "✓ run_setup" in watched.stdout and "ready" in watched.stdout

    failed = hive_cli("watch", bad["id"][:8], hive=hive, cwd=repo)
    assert failed.returncode == 1
    assert "✗ run_setup:2" in failed.stdout
    assert "exit code 3" in failed.stdout and "no such thing" in failed.stdout
    assert "what to do" in failed.stdout


def test_watch_reconnects_after_the_server_is_killed_and_misses_nothing(
    tmp_path: Path, held_repo: Path
) -> None:
    home, port = tmp_path / "home", free_port()
    url = f"http://127.0.0.1:{port}"
    env = cli_env(url=url, HIVE_HOME=str(home))
    with serving(held_repo, home, port) as server, httpx.Client(base_url=url) as http:
        http.headers.update(auth_of(home))
        workspace = http.get("/api/workspaces").json()["workspaces"][0]["id"]
        body = {"workspaceId": workspace, "templateId": "basic", "name": "survivor"}
        cell = http.post("/api/cells", json=body).json()
        with running_cli("watch", cell["id"], cwd=held_repo, env=env) as cli:
            assert cli.stdout is not None
            # The step's own line (a trailing space), not its sub-step's: it is written.
            early = read_until(cli.stdout, "✓ allocate_ports ")
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
            # The next server resumes the cell in a new run; the watch follows it there.
            with serving(held_repo, home, port):
                deadline = time.monotonic() + 60
                while http.get(f"/api/cells/{cell['id']}").json()["attempt"] < 2:
                    assert time.monotonic() < deadline, "the cell was not resumed"
                    time.sleep(0.05)
                release(http, cell["id"])
                rest, errors = cli.communicate(timeout=90)
    assert cli.returncode == 0, errors
    lines = early + rest.splitlines()
    # Shown once each: the first run's steps before the kill, the resumed run's after.
    for step in ("✓ create_worktree", "✓ run_setup", "✓ mark_ready"):
        assert sum(line.strip().startswith(step + " ") for line in lines) == 1, (step, lines)
    assert lines[-1].startswith("ready")


def test_ctrl_c_asks_and_yes_cancels_the_provisioning(held_hive: LiveHive, held_repo: Path) -> None:
    env = cli_env(held_hive)
    with running_cli("new", "basic", "regret", cwd=held_repo, env=env, stdin=True) as cli:
        assert cli.stdout is not None and cli.stdin is not None
        read_until(cli.stdout, "✓ allocate_ports")
        cli.send_signal(signal.SIGINT)
        out, errors = cli.communicate("y\n", timeout=60)
    assert cli.returncode == 1, errors
    assert "Cancel the provisioning of cell" in errors
    cell = only_cell(held_hive)
    assert cell["status"] == "error"
    assert "cancelled on request" in cell["lastSetupError"]["message"]
    assert "cancelled on request" in out, "the outcome is shown"


def test_ctrl_c_with_detach_leaves_it_running(held_hive: LiveHive, held_repo: Path) -> None:
    env = cli_env(held_hive)
    with running_cli("new", "basic", "later", "--detach", cwd=held_repo, env=env) as cli:
        assert cli.stdout is not None
        read_until(cli.stdout, "✓ allocate_ports")
        cli.send_signal(signal.SIGINT)
        _, errors = cli.communicate(timeout=60)
    assert cli.returncode == 0, errors
    assert "left running" in errors and "hive watch" in errors
    cell = only_cell(held_hive)
    assert cell["status"] == "spawning"
    release(held_hive, cell["id"])
    assert held_hive.settle(cell["id"])["status"] == "ready"


def test_on_a_terminal_the_checklist_is_drawn_live(held_hive: LiveHive, held_repo: Path) -> None:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hive", "new", "basic", "on a tty"],
        cwd=held_repo,
        env={**cli_env(held_hive), "TERM": "xterm"},
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    screen = b""

    def read_until_shown(text: str) -> None:
        nonlocal screen
        deadline = time.monotonic() + 60
        while text.encode() not in screen:
            assert time.monotonic() < deadline, screen.decode(errors="replace")
            if select.select([leader], [], [], 1)[0]:
                try:
                    screen += os.read(leader, 65536)
                except OSError:  # the far end closed: the process is gone
                    break

    try:
        # The spinner's frames move while setup is held: the view is live, not printed.
        read_until_shown("no estimate yet")
        read_until_shown("run_setup")
        release(held_hive, only_cell(held_hive)["id"])
        read_until_shown("ready")
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    text = screen.decode(errors="replace")
    assert "\x1b[" in text, "drawn with terminal control sequences"
    assert "create_worktree:git_add" not in text, "no plain step lines on a terminal"
    assert "mark_ready" in text
