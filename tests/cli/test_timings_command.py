"""`hive timings` against a real server, in an 80-column terminal."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import hive_cli
from tests.support.server import LiveHive


def test_timings_steps_chain_and_summary(hive: LiveHive, repo: Path) -> None:
    cell = hive.settle(hive.create("timed")["id"])
    prefix = cell["id"][:8]

    steps = hive_cli("timings", prefix, hive=hive, cwd=repo, COLUMNS="80")
    assert steps.returncode == 0, steps.stderr
    assert "create run" in steps.stdout and "run_setup:1" in steps.stdout
    assert all(len(line) <= 80 for line in steps.stdout.splitlines())

    chain = hive_cli("timings", prefix, "--chain", hive=hive, cwd=repo, COLUMNS="80")
    assert chain.returncode == 0, chain.stderr
    lines = chain.stdout.splitlines()
    assert lines[0].startswith("critical chain of create run")
    names = [line.split()[0] for line in lines[2:]]
    assert names[0] == "create_request_received" and names[-1] == "mark_ready"
    assert all(len(line) <= 80 for line in lines)

    summary = hive_cli("timings", "--template", "basic", "--since", "1h", hive=hive, cwd=repo)
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.startswith("basic  create: 1 run, p50")
    assert "P90" in summary.stdout and "mark_ready" in summary.stdout

    recent = hive_cli("timings", prefix, "--since", "1h", hive=hive, cwd=repo)
    assert "run_setup:1" in recent.stdout
    nothing = hive_cli("timings", "--template", "nosuch", hive=hive, cwd=repo)
    assert nothing.stdout.strip() == "no timings recorded"


def test_timings_refusals(hive: LiveHive, repo: Path) -> None:
    bad = hive_cli("timings", "--since", "last week", hive=hive, cwd=repo)
    assert bad.returncode == 1
    assert "since" in bad.stderr and "1d" in bad.stderr
    lonely = hive_cli("timings", "--chain", hive=hive, cwd=repo)
    assert lonely.returncode == 1 and "--chain needs a cell" in lonely.stderr
