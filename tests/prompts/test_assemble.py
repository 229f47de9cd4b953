"""Fragments rendered in order with strict, sandboxed placeholders."""

from __future__ import annotations

import pytest

from hive.core.errors import StepError
from hive.prompts.assemble import assemble
from hive.prompts.context import RuntimeFacts, ServiceFacts, brief_fragment, placeholders
from hive.prompts.fragments import Fragment

FACTS = RuntimeFacts(
    cell_id="c1", name="cell", branch="hive/cell-c1", base_commit="abc", worktree_path="/w",
    workspace_path="/r", template_id="basic", template_label="Basic",
    services=(ServiceFacts("web", 4100, "http://127.0.0.1:4100", "ready"),),
    env_names=("API_TOKEN", "WEB_PORT"),
)  # fmt: skip


def test_fragments_keep_their_order_and_fill_placeholders() -> None:
    fragments = [
        Fragment("a.md", "first {{ cell.branch }}"),
        Fragment("b.md", "second {{ services.web.url }} {{ ports.web }}"),
        Fragment("hive:brief", "third {{ not rendered }}", placeholders=False),
    ]
    assembled = assemble(fragments, placeholders(FACTS))
    assert assembled.text == (
        "first hive/cell-c1\n\nsecond http://127.0.0.1:4100 4100\n\nthird {{ not rendered }}\n"
    )
    assert [s.path for s in assembled.sources] == ["a.md", "b.md", "hive:brief"]
    assert assembled.sources[0].bytes == len(b"first hive/cell-c1")


@pytest.mark.parametrize(
    ("text", "line", "name"),
    [
        ("intro\n\nuse {{ cell.brnch }}\n", 3, "brnch"),
        ("{{ servces.web.url }}", 1, "servces"),
        ("a\n{{ ports.db }}", 2, "db"),
    ],
)
def test_an_undefined_placeholder_names_the_file_line_and_variable(
    text: str, line: int, name: str
) -> None:
    with pytest.raises(StepError) as caught:
        assemble([Fragment("docs/rules.md", text)], placeholders(FACTS))
    assert f"docs/rules.md:{line}" in caught.value.message
    assert name in caught.value.message


def test_the_sandbox_refuses_reaching_into_python() -> None:
    with pytest.raises(StepError, match="unsafe"):
        assemble([Fragment("x.md", "{{ cell.__class__.__mro__ }}")], placeholders(FACTS))


def test_the_context_offers_env_names_only() -> None:
    assert placeholders(FACTS)["env"] == ["API_TOKEN", "WEB_PORT"]


def test_the_brief_lists_task_constraints_and_criteria() -> None:
    brief = brief_fragment("Fix the login.", ["do not touch db/"], ["tests pass"])
    assert brief is not None
    assert brief.text.index("Fix the login.") < brief.text.index("- do not touch db/")
    assert brief.text.index("- do not touch db/") < brief.text.index("- tests pass")
    assert brief_fragment(None, [], []) is None
