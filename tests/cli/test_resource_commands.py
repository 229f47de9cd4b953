"""`hive top` and the CPU and MEM of `hive services`, against a real server sampling
real services every 0.2 s; `hive top` on a pseudo-terminal refreshes until Ctrl-C."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from hive.cli.resource_views import size_text, top_view
from tests.api.test_resources import HOG, MB, service_now, wait_resources
from tests.support.cli import cli_env, hive_cli
from tests.support.repos import basic_template, make_repo
from tests.support.server import LiveHive


@pytest.mark.parametrize(
    ("size", "text"),
    [(None, "-"), (0, "0B"), (1023, "1023B"), (1024, "1.00K"), (60 * 2**20, "60.0M"),
     (999 * 2**20, "999M"), (1300 * 2**20, "1.27G")],
)  # fmt: skip
def test_sizes_are_short_binary_units(size: int | None, text: str) -> None:
    assert size_text(size) == text


def test_top_shows_each_cell_with_its_services_indented_beneath() -> None:
    body: dict[str, Any] = {
        "sort": "cpu", "sampledAt": None, "intervalS": 5,
        "cells": [
            {"cellId": "a" * 32, "name": "[b]busy[/b]", "status": "ready",
             "agent": {"type": "command", "status": "working"},
             "now": {"cpu": 101.25, "rss": 70 * 2**20, "processes": 3},
             "disk": {"allocatedBytes": 5 * 2**30},
             "services": [
                 {"name": "hog", "status": "ready", "now": {"cpu": 0.0, "rss": 60 * 2**20,
                                                            "processes": 1}},
                 {"name": "gone", "status": None, "now": None},
             ]},
            {"cellId": "b" * 32, "name": "idle", "status": "archived", "agent": None,
             "now": None, "disk": None, "services": []},
        ],
    }  # fmt: skip
    out = io.StringIO()
    Console(file=out, width=100, highlight=False).print(top_view(body))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2 cells · not sampled yet · every 5s · sorted by cpu")
    assert lines[1].split() == ["ID", "NAME", "STATUS", "CPU", "%", "MEM", "DISK", "PIDS", "AGENT"]
    assert lines[2].split() == [
        "a" * 12, "[b]busy[/b]", "ready", "101.2%", "70.0M", "5.00G", "3", "working",
    ]  # fmt: skip
    assert lines[3].split() == ["└", "hog", "ready", "0.0%", "60.0M", "1"]
    assert lines[3].index("└") > lines[2].index("[b]busy")  # indented under its cell
    assert lines[4].split() == ["└", "gone", "-", "-", "-", "-"]
    assert lines[5].split() == ["b" * 12, "idle", "archived", "-", "-", "-", "-", "-"]


@pytest.fixture
def hog_hive(start_hive: Callable[..., LiveHive], tmp_path: Path) -> tuple[LiveHive, Path]:
    repo = make_repo(
        tmp_path / "repo",
        {"hog": basic_template(id="hog", setup=[], services={"hog": {"run": HOG}})},
    )
    return start_hive([repo], sample_interval_s=0.2), repo


def test_top_and_services_print_the_measured_figures(hog_hive: tuple[LiveHive, Path]) -> None:
    hive, repo = hog_hive
    cell = hive.settle(hive.create("hungry", template="hog")["id"])
    assert cell["status"] == "ready", cell["lastSetupError"]
    wait_resources(hive, cell["id"], service_now("hog", "rss", 50 * MB))

    top = hive_cli("top", "--sort", "memory", cwd=repo, hive=hive)
    assert top.returncode == 0, top.stderr
    lines = top.stdout.splitlines()
    assert "1 cell · sampled" in lines[0] and "sorted by memory" in lines[0]
    row = next(line for line in lines if "hungry" in line).split()
    assert row[:3] == [cell["id"][:12], "hungry", "ready"]
    assert re.fullmatch(r"\d+(\.\d)?M", row[4]) and float(row[4][:-1]) >= 47  # 50 MB in MiB
    service = next(line for line in lines if "└ hog" in line).split()
    assert service[2] == "ready" and service[-1] == "1"

    listed = hive_cli("services", cell["id"][:12], cwd=repo, hive=hive)
    assert listed.returncode == 0, listed.stderr
    header, hog = listed.stdout.splitlines()[:2]
    assert "CPU" in header and "MEM" in header
    assert re.search(r"\d+\.\d% +\d+(\.\d)?M", hog), hog

    bad = hive_cli("top", "--sort", "size", cwd=repo, hive=hive)
    assert bad.returncode == 2 and "size" in bad.stderr


def test_top_on_a_terminal_refreshes_in_place_until_ctrl_c(
    hog_hive: tuple[LiveHive, Path],
) -> None:
    hive, repo = hog_hive
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hive", "top", "--interval", "0.2"],
        cwd=repo,
        env={**cli_env(hive), "TERM": "xterm"},
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    screen = b""

    def read_until(done: Callable[[str], bool]) -> None:
        nonlocal screen
        deadline = time.monotonic() + 30
        while not done(screen.decode(errors="replace")):
            assert time.monotonic() < deadline, screen.decode(errors="replace")
            if select.select([leader], [], [], 1)[0]:
                try:
                    screen += os.read(leader, 65536)
                except OSError:  # the far end closed: the process is gone
                    raise AssertionError(screen.decode(errors="replace")) from None

    try:
        # Sampled at two different seconds: redrawn, not printed once.
        read_until(lambda text: len(set(re.findall(r"sampled (\d\d:\d\d:\d\d)", text))) >= 2)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    text = screen.decode(errors="replace")
    assert "\x1b[" in text, "drawn with terminal control sequences"
    assert "Traceback" not in text and "Aborted" not in text
