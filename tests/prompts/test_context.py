"""The runtime context names the cell's template options and their values."""

from __future__ import annotations

from dataclasses import replace

from hive.prompts.assemble import assemble
from hive.prompts.context import OptionFacts, context_fragment, placeholders
from hive.prompts.fragments import Fragment
from tests.prompts.test_assemble import FACTS

WITH_OPTIONS = replace(
    FACTS,
    options=(OptionFacts("database", "Database", "postgres"), OptionFacts("cache", "cache", "on")),
)


def test_the_context_lists_each_option_with_its_value() -> None:
    text = context_fragment(WITH_OPTIONS).text
    assert "- Option `database` (Database): `postgres`\n" in text
    assert "- Option `cache`: `on`\n" in text  # no label of its own: not repeated
    assert "Option" not in context_fragment(FACTS).text


def test_a_fragment_may_name_an_option() -> None:
    fragments = [Fragment("a.md", "db: {{ options.database }}")]
    assert assemble(fragments, placeholders(WITH_OPTIONS)).text == "db: postgres\n"
