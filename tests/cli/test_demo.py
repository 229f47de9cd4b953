"""`hive demo`: the README's first command, end to end, as CI runs it and as a user does."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.cli import cli_env, hive_cli


def _line(output: str, start: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(start))


def test_demo_check_provisions_a_cell_and_cleans_up(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hive", "demo", "--check"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ready" in out.stdout
    assert "worktree" in out.stdout and "http://127.0.0.1:" in out.stdout
    assert "check passed" in out.stdout
    app = _line(out.stdout, "app ")
    assert app.endswith('<- open this: 200 OK, text/html, "hello from cell demo cell"'), app
    assert "<h1>" not in out.stdout
    assert "/?token=" in _line(out.stdout, "Hive server")
    # It ends with the web UI's addresses, labelled, the token in each.
    web_ui, cell_page = out.stdout.splitlines()[-3:-1]
    assert re.fullmatch(r"web UI    http://127\.0\.0\.1:\d+/\?token=\S+", web_ui), web_ui
    assert re.fullmatch(
        r"cell page http://127\.0\.0\.1:\d+/cells/[0-9a-f]{32}\?token=\S+", cell_page
    )
    sample = _line(out.stdout, "sample repository").split()[-1]
    assert not Path(sample).exists(), "the demo removes what it made"


def test_the_demo_hint_works_while_it_serves_and_ctrl_c_cleans_up(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "hive", "demo"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        seen = []
        for line in demo.stdout:
            seen.append(line)
            if line.startswith("cell page "):
                break
        hint = shlex.split(_line("".join(seen), "try "))[1:]
        assert hint[-3:-1] == ["hive", "services"], seen
        variables = dict(word.split("=", 1) for word in hint[:-3])
        assert set(variables) == {"HIVE_URL", "HIVE_HOME"}, "no token on a command line"
        services = hive_cli(*hint[-2:], cwd=tmp_path, **variables)
        assert services.returncode == 0, services.stderr
        assert "web" in services.stdout and "ready" in services.stdout
        # The printed addresses sign a browser in, on the front page and the cell's page.
        web_ui = _line("".join(seen), "web UI ").split()[-1]
        cell_page = _line("".join(seen), "cell page ").split()[-1]
        cell_path = "/cells/" + cell_page.split("/cells/")[1].split("?")[0]
        with httpx.Client(base_url=variables["HIVE_URL"], headers={"Accept": "text/html"}) as web:
            for address, landing in ((web_ui, "/"), (cell_page, cell_path)):
                signed = web.get(address)
                assert signed.status_code == 303 and signed.headers["location"] == landing
            front = web.get("/")
            assert front.status_code == 200 and "demo cell" in front.text
    finally:
        demo.send_signal(signal.SIGINT)
        rest, errors = demo.communicate(timeout=120)
    assert demo.returncode == 0, rest + errors
    assert "deleting the demo cell" in rest
    scratch = Path(variables["HIVE_HOME"]).parent
    assert not scratch.exists(), "the demo removes what it made"
