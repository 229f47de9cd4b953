"""`hive logs ID --setup [-f]` as a user runs it, against a real server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.cli import cli_env, hive_cli
from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive

WAIT = 'while [ ! -f "$HIVE_CELL_PATH.go" ]; do sleep 0.02; done'


def test_setup_prints_every_attempt(start_hive: Callable[..., LiveHive], tmp_path: Path) -> None:
    flaky = 'test -f fixed.txt || { echo "registry down"; exit 3; }'
    repo = make_repo(tmp_path / "repo", {"basic": basic_template(setup=[flaky])})
    hive = start_hive([repo])
    cell = hive.settle(hive.create("flaky")["id"])
    (Path(cell["worktreePath"]) / "fixed.txt").touch()
    hive.http.post(f"/api/cells/{cell['id']}/retry")
    hive.settle(cell["id"])

    out = hive_cli("logs", cell["id"][:8], "--setup", hive=hive, cwd=repo)
    assert out.returncode == 0, out.stderr
    assert out.stdout == hive.http.get(f"/api/cells/{cell['id']}/setup-log").text
    assert "[hive] attempt 1 · " in out.stdout and "[hive] attempt 2 · " in out.stdout
    assert "registry down\n[hive] exit code 3\n" in out.stdout
    assert out.stdout.endswith("[hive] exit code 0\n")

    tail = hive_cli("logs", cell["id"][:8], "--setup", "-n", "1", hive=hive, cwd=repo)
    assert tail.stdout == "[hive] exit code 0\n"
    # Following a settled cell: the tail, then the stream has nothing after it and ends.
    followed = hive_cli("logs", cell["id"][:8], "--setup", "-n", "1", "-f", hive=hive, cwd=repo)
    assert followed.returncode == 0 and followed.stdout == tail.stdout


def test_setup_follow_prints_output_as_it_comes_and_exits_when_the_cell_is_ready(
    start_hive: Callable[..., LiveHive], tmp_path: Path
) -> None:
    template = basic_template(setup=[f"echo first; {WAIT}; echo second"])
    repo = make_repo(tmp_path / "repo", {"basic": template})
    hive = start_hive([repo])
    cell = hive.create("watched")
    follow = subprocess.Popen(
        [sys.executable, "-m", "hive", "logs", cell["id"], "--setup", "-f"],
        env=cli_env(hive),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        lines: list[str] = []
        while (line := follow.stdout.readline()) != "first\n":
            assert line, f"the CLI ended before the output came: {lines}"
            lines.append(line)
        assert hive.cell(cell["id"])["status"] == "spawning", "seen while still running"
        Path(hive.cell(cell["id"])["worktreePath"] + ".go").touch()
        rest, errors = follow.communicate(timeout=60)  # ends by itself once the cell is ready
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.communicate()
    assert follow.returncode == 0, errors
    assert (
        "".join(lines) + "first\n" + rest
        == hive.http.get(f"/api/cells/{cell['id']}/setup-log").text
    )
    assert rest == "second\n[hive] exit code 0\n"


def test_logs_needs_a_service_or_setup_but_not_both(hive: LiveHive, repo: Path) -> None:
    cell = hive.settle(hive.create("plain")["id"])
    for args in ([cell["id"]], [cell["id"], "web", "--setup"]):
        out = hive_cli("logs", *args, hive=hive, cwd=repo)
        assert out.returncode == 1
        assert "name a service or give --setup" in out.stderr
        assert "Traceback" not in out.stderr
