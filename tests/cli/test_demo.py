"""`hive demo --check`: the README's first command, end to end, as CI runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_check_provisions_a_cell_and_cleans_up(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hive", "demo", "--check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ready" in out.stdout
    assert "worktree" in out.stdout and "http://127.0.0.1:" in out.stdout
    assert "check passed" in out.stdout
    sample = next(
        line.split()[-1] for line in out.stdout.splitlines() if "sample repository" in line
    )
    assert not Path(sample).exists(), "the demo removes what it made"
