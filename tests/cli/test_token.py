"""The CLI finds the server's token by itself (HIVE_TOKEN, else `$HIVE_HOME/token`) and,
when the server refuses it, says where each side's token comes from."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import hive_cli
from tests.support.server import LiveHive


def test_commands_work_with_no_token_typed(hive: LiveHive, repo: Path) -> None:
    out = hive_cli("workspace", "ls", hive=hive, cwd=repo)
    assert out.returncode == 0, out.stderr
    assert str(repo) in out.stdout


def test_the_right_hive_token_works_from_any_home(
    hive: LiveHive, repo: Path, tmp_path: Path
) -> None:
    elsewhere = str(tmp_path / "elsewhere")
    out = hive_cli("ls", url=hive.url, cwd=repo, HIVE_HOME=elsewhere, HIVE_TOKEN=hive.token)
    assert out.returncode == 0, out.stderr


def test_a_wrong_hive_token_fails_with_the_hint(hive: LiveHive, repo: Path) -> None:
    out = hive_cli("ls", hive=hive, cwd=repo, HIVE_TOKEN="not-the-token")
    assert out.returncode == 1
    error = " ".join(out.stderr.split())  # the console wraps long lines
    assert "HTTP 401" in error and "not this server's" in error
    assert f"the token is in {hive.settings.token_path}" in error
    assert "this CLI sent its HIVE_TOKEN" in error
    assert hive.token not in out.stdout + out.stderr
    assert "Traceback" not in out.stderr


def test_a_cli_pointed_at_another_home_says_it_found_no_token(
    hive: LiveHive, repo: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    out = hive_cli("ls", url=hive.url, cwd=repo, HIVE_HOME=str(elsewhere))
    assert out.returncode == 1
    error = " ".join(out.stderr.split())
    assert "carries no Hive token (HTTP 401)" in error
    assert f"found no token (no HIVE_TOKEN, no {elsewhere / 'token'})" in error
    assert not elsewhere.exists(), "a client never makes a home or a token"
