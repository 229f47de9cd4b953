"""Streaming walks: every batch can be copied as soon as it arrives."""

from __future__ import annotations

import stat
from pathlib import Path

from hive.workspace.include_rules import IncludeRules
from hive.workspace.tree_walk import CopyPlan, CopyWork, walk_in_batches, walk_plan


def _nested_tree(repo: Path) -> None:
    for index in range(400):
        path = repo / "node_modules" / f"a{index % 7}" / f"b{index % 5}" / f"c{index % 3}"
        path.mkdir(parents=True, exist_ok=True)
        (path / f"f{index}.js").write_text(str(index))
    (repo / "node_modules" / "empty" / "deeper").mkdir(parents=True)
    (repo / "node_modules" / "link").symlink_to("a0")


def test_batches_hold_their_files_directories_and_add_up_to_the_whole_walk(
    repo: Path,
) -> None:
    _nested_tree(repo)
    rules = IncludeRules.build(["node_modules/**"], [])
    plan = CopyPlan(trees=["node_modules"])
    batches: list[CopyWork] = []
    summary = walk_in_batches(repo, plan, rules, batches.append, batch_items=50)
    assert len(batches) > 5
    assert all(batch.items < 50 + 20 for batch in batches), "a directory's worth at most over"
    made: set[str] = {""}
    for batch in batches:
        made |= {rel for rel, _ in batch.dirs}
        for rel in [*batch.files, *batch.links]:
            parent = rel.rpartition("/")[0]
            assert parent in made, f"{rel} arrives before its directory"
    whole = walk_plan(repo, plan, rules)
    assert sorted(f for b in batches for f in b.files) == sorted(whole.files)
    assert sorted(d for b in batches for d in b.dirs) == sorted(whole.dirs)
    assert [link for b in batches for link in b.links] == whole.links == ["node_modules/link"]
    assert summary.items == whole.items == 401
    deeper = repo / "node_modules" / "empty" / "deeper"
    assert ("node_modules/empty/deeper", stat.S_IMODE(deeper.stat().st_mode)) in whole.dirs


def test_json_round_trip_keeps_everything(repo: Path) -> None:
    _nested_tree(repo)
    rules = IncludeRules.build(["node_modules/**", "./.env"], [])
    work = walk_plan(repo, CopyPlan(trees=["node_modules"], files=[".env"]), rules)
    again = CopyWork.from_json(work.to_json())
    assert again == work
