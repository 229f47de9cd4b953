"""Prompt files found by glob in a real directory tree."""

from __future__ import annotations

from pathlib import Path

from hive.prompts.local import read_local


def test_a_pattern_gives_its_files_in_sorted_path_order(tmp_path: Path) -> None:
    for name in ("docs/b.md", "docs/a.md", "docs/sub/c.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    found = read_local(tmp_path, "docs/**/*.md", "promptSources[0]")
    assert [f.source for f in found.fragments] == ["docs/a.md", "docs/b.md", "docs/sub/c.md"]
    assert found.warnings == ()
    directory = read_local(tmp_path, "docs", "prompts[0]")
    assert [f.source for f in directory.fragments] == ["docs/a.md", "docs/b.md", "docs/sub/c.md"]


def test_no_match_and_escapes_are_warnings(tmp_path: Path) -> None:
    assert read_local(tmp_path, "nothing/*.md", "p[0]").warnings == ("p[0] matches no file",)
    [escape] = read_local(tmp_path, "../*.md", "p[1]").warnings
    assert "inside the repository" in escape
