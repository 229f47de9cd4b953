"""What of git's configuration and attributes a copy-on-write checkout reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive.workspace.checkout_plan import TreeEntry
from hive.workspace.git_settings import parse_config, read_attributes, system_attributes


def test_the_last_value_of_a_key_wins_and_keys_are_lower_case() -> None:
    config = parse_config("core.autoCRLF\nfalse\0core.autocrlf\ninput\0user.name\nA B\0")
    assert config == {"core.autocrlf": "input", "user.name": "A B"}


def test_the_system_attributes_file_is_read_unless_git_is_told_not_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GIT_ATTR_NOSYSTEM", raising=False)
    assert Path("/etc/gitattributes") in system_attributes()
    monkeypatch.setenv("GIT_ATTR_NOSYSTEM", "true")
    assert system_attributes() == []


def test_the_main_checkouts_own_attributes_files_are_read_in_every_tree_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_ATTR_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / ".gitattributes").write_text("*.c text\n")
    (tmp_path / "untracked").mkdir()
    (tmp_path / "untracked" / ".gitattributes").write_text("* eol=crlf\n")
    tree = [TreeEntry(b"a/b/c.c", 0o100644, b"0" * 40)]
    texts = read_attributes(tmp_path, tmp_path / ".git", tree, {})
    assert texts == ["*.c text\n"], "a/ (the tree's) read; untracked/ reaches no tracked file"
