"""What timing pages make of the API's answers: metadata in words, waterfalls, and the
filters' values checked as the API's validators would."""

from __future__ import annotations

from datetime import UTC, datetime

from hive.api.schemas import ChainLinkOut, CriticalChain, TimingOut
from hive.core.timing_cursor import encode_cursor
from hive.web.timing_filters import TimingFilters, check
from hive.web.timing_view import metadata_items, waterfalls


def test_metadata_reads_as_words_with_units() -> None:
    items = dict(
        metadata_items(
            {
                "patterns": ["./.env*", "apps/*/.env"],
                "files": 12,
                "bytes": 2_500_000,
                "reflinkedBytes": 0,
                "reflinked": 10,
                "fallback": 2,
                "copyMs": 1234.5,
                "timeoutS": 600,
                "resumedAfterRestart": False,
                "ports": {"web": 4100},
                "snapshot": None,
                "missing": [],
            }
        )
    )
    assert items == {
        "copy": "12 files: 10 reflinked, 2 copied (fallback)",
        "patterns": "./.env*, apps/*/.env",
        "files": "12",
        "bytes": "2.5 MB",
        "reflinked bytes": "0 B",
        "reflinked": "10",
        "fallback": "2",
        "copy ms": "1.2 s",
        "timeout s": "600 s",
        "resumed after restart": "no",
        "ports": "web: 4100",
        "snapshot": "—",
        "missing": "none",
    }
    assert metadata_items(None) == []


def test_copy_method_says_reflink_or_fallback() -> None:
    def method(**meta: int) -> str:
        return dict(metadata_items(meta))["copy"]

    assert method(files=3, reflinked=3, fallback=0) == "3 files, all reflinked (copy-on-write)"
    assert method(files=1, reflinked=0, fallback=1) == (
        "1 file, all copied (fallback: no reflink here)"
    )
    assert method(files=0, reflinked=0, fallback=0) == "0 files, nothing copied"
    assert "copy" not in dict(metadata_items({"files": 3}))


def _step(step: str, at_ms: int, duration_ms: float, status: str = "ok") -> TimingOut:
    started = datetime.fromtimestamp(1_800_000_000 + at_ms / 1000, UTC)
    return TimingOut(
        id=at_ms,
        cell_id="c",
        cell_name="c",
        workspace_id="w",
        template_id="t",
        workflow="create",
        run_id="r1",
        step=step,
        status=status,
        started_at=started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        duration_ms=duration_ms,
        attempt=1,
        error=None,
        metadata=None,
        created_at=None,
    )


def test_a_waterfall_places_bars_by_start_and_duration() -> None:
    steps = [
        _step("create_worktree", 0, 100),
        _step("create_worktree:git_add", 10, 40),
        _step("run_setup", 100, 300, status="error"),
    ]
    runs = [{"runId": "r1", "workflow": "create", "attempt": 1, "status": "error"}]
    chain = CriticalChain(
        cell_id="c",
        run_id="r1",
        workflow="create",
        attempt=1,
        status="error",
        total_ms=400,
        links=[
            ChainLinkOut(step="create_worktree", offset_ms=0, duration_ms=100, status="ok", depth=0)
        ],
    )
    [fall] = waterfalls(steps, runs, chain)
    assert fall.span_ms == 400
    assert [(b.step, b.depth, b.left, b.width, b.critical) for b in fall.bars] == [
        ("create_worktree", 0, 0.0, 25.0, True),
        ("create_worktree:git_add", 1, 2.5, 10.0, False),
        ("run_setup", 0, 25.0, 75.0, False),
    ]
    assert fall.bars[2].status == "error"
    # Another run's chain marks nothing here.
    other = chain.model_copy(update={"run_id": "r0"})
    assert not any(b.critical for b in waterfalls(steps, runs, other)[0].bars)


def test_filters_are_checked_like_the_apis_parameters() -> None:
    now = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    fine = check(TimingFilters(since="1h", until="2027-01-15T09:00:00Z"), now)
    assert fine.errors == {}
    assert fine.since is not None and fine.until is not None and fine.since < fine.until
    bad = check(TimingFilters(since="yesterday", status="maybe", cursor="nope"), now)
    assert set(bad.errors) == {"since", "status", "cursor"}
    assert "relative age" in bad.errors["since"]
    assert check(TimingFilters(cursor=encode_cursor(42)), now).errors == {}


def test_filters_make_the_query_they_came_from() -> None:
    filters = TimingFilters(template_id="web", step="run_setup", since="1h")
    assert filters.query() == "templateId=web&step=run_setup&since=1h"
    assert filters.query(cursor="abc").endswith("&cursor=abc")
