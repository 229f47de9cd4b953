"""Pattern semantics of include-copy, without touching the disk."""

from __future__ import annotations

import pytest

from hive.core.errors import InvalidInputError
from hive.workspace.include_rules import IncludeRules, to_gitignore


def test_dot_slash_is_rooted_at_the_top() -> None:
    rules = IncludeRules.build(["./.env*"], [])
    assert rules.selects(".env") and rules.selects(".env.local")
    assert not rules.selects("apps/web/.env")


def test_rooted_pattern_in_a_subdirectory() -> None:
    rules = IncludeRules.build(["./apps/web/.env*"], [])
    assert rules.selects("apps/web/.env.production")
    assert not rules.selects("apps/api/.env") and not rules.selects(".env")


def test_unrooted_pattern_matches_at_any_depth() -> None:
    rules = IncludeRules.build([".env*"], [])
    assert rules.selects(".env") and rules.selects("a/b/c/.env.test")


def test_double_star_crosses_directories() -> None:
    rules = IncludeRules.build(["config/**/*.local.json"], [])
    assert rules.selects("config/a/b/x.local.json")
    assert not rules.selects("other/x.local.json")


@pytest.mark.parametrize(
    ("pattern", "root"),
    [
        ("node_modules/**", "node_modules"),
        ("./node_modules/**", "node_modules"),
        ("apps/web/.venv/**", "apps/web/.venv"),
        ("./build/cache/", "build/cache"),
    ],
)
def test_static_roots(pattern: str, root: str) -> None:
    assert IncludeRules.build([pattern], []).static_roots == (root,)


@pytest.mark.parametrize("pattern", ["*/node_modules/**", ".env*", "node_modules/", "!x/**"])
def test_patterns_that_are_not_static_roots(pattern: str) -> None:
    assert IncludeRules.build([pattern], []).static_roots == ()


def test_ignored_directories_are_searched_only_where_a_pattern_could_match() -> None:
    rooted = IncludeRules.build(["./.env*", "./apps/web/.env*"], [])
    assert not rooted.may_match_within("node_modules")
    assert rooted.may_match_within("apps")
    assert rooted.may_match_within("apps/web")
    assert not rooted.may_match_within("apps/web/node_modules")  # .env* is one level up
    assert not rooted.may_match_within("apps/api")
    unrooted = IncludeRules.build([".env*"], [])
    assert unrooted.may_match_within("node_modules")
    deep = IncludeRules.build(["./packages/**/dist/**"], [])
    assert deep.may_match_within("packages/a/b") and not deep.may_match_within("apps")


def test_ignore_patterns_apply_inside_static_roots() -> None:
    rules = IncludeRules.build(["node_modules/**"], ["node_modules/**/*.md", "*.map"])
    assert rules.root_covering("node_modules/a/b.js") == "node_modules"
    assert rules.ignores("node_modules/a/README.md") and rules.ignores("x/y.js.map")
    assert not rules.ignores("node_modules/a/b.js")


@pytest.mark.parametrize("pattern", ["../x", "/etc/passwd", "./../x", "a/../../b", "~/x"])
def test_patterns_that_leave_the_repository_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        to_gitignore(pattern, "include")
    assert repr(pattern) in info.value.message
