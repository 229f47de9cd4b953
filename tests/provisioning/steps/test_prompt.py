"""assemble_prompt in a real runtime: real repositories, files, services."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hive.core.failure_kind import FailureKind
from hive.core.status import CellStatus
from tests.provisioning.conftest import Hive, MakeHive
from tests.support.fragment_server import FragmentServer
from tests.support.repos import basic_template, git, write_config

WEB = {"run": f"{sys.executable} -m http.server $PORT --bind 127.0.0.1"}


@pytest.fixture
def fragment_server() -> Iterator[FragmentServer]:
    running = FragmentServer()
    yield running
    running.stop()


def configure(hive: Hive, files: dict[str, str], **config: Any) -> None:
    """Commit prompt files and a config with `config`'s top-level keys; the template
    gets `template` (a dict of its overrides)."""
    for name, text in files.items():
        (hive.repo / name).parent.mkdir(parents=True, exist_ok=True)
        (hive.repo / name).write_text(text)
    template = basic_template(setup=[], **config.pop("template", {}))
    write_config(hive.repo, {"basic": template}, **config)
    git(hive.repo, "add", "-A")
    git(hive.repo, "commit", "-q", "-m", "prompts")


def prompt_of(cell_path: Path) -> str:
    return (cell_path / ".hive" / "PROMPT.md").read_text()


async def test_fragments_in_order_with_runtime_values_and_no_secret(make_hive: MakeHive) -> None:
    hive = await make_hive()
    configure(
        hive,
        {
            "docs/prompts/b.md": "WORKSPACE-B on {{ cell.branch }}",
            "docs/prompts/a.md": "WORKSPACE-A web at {{ services.web.url }} port {{ ports.web }}",
            "AGENTS.md": "AGENTS rules",
            "templates/basic.md": "TEMPLATE for {{ template.id }}",
        },
        promptSources=["docs/prompts/*.md", "AGENTS.md"],
        template={"prompts": ["templates"], "services": {"web": WEB}},
    )
    created = await hive.create(
        "brief", description="Fix {the} login", constraints=("no db/",), success_criteria=("green",)
    )
    cell = await hive.settle(created.id)
    assert cell.status == CellStatus.READY, cell.last_setup_error
    text = prompt_of(cell.worktree_path)
    order = [
        "You are working in a Hive cell",
        "WORKSPACE-A",
        "WORKSPACE-B",
        "AGENTS rules",
        "TEMPLATE for basic",
        "## Runtime context",
        "Fix {the} login",
        "- no db/",
        "- green",
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions), text
    [service] = await hive.runtime.stores.services.for_cell(cell.id)
    url = f"http://127.0.0.1:{service.port}"
    assert f"web at {url} port {service.port}" in text
    assert f"WORKSPACE-B on {cell.branch_name}" in text
    assert f"| web | {service.port} | {url} | ready |" in text
    assert cell.base_commit is not None and cell.base_commit in text
    assert "`API_TOKEN`" in text and "s3cret-value" not in text
    assert (cell.worktree_path / ".hive" / "instructions.md").read_text() == text
    assert git(cell.worktree_path, "status", "--porcelain") == ""
    assert cell.prompt is not None
    assert [s["path"] for s in cell.prompt["sources"]] == [
        "hive:base", "docs/prompts/a.md", "docs/prompts/b.md", "AGENTS.md",
        "templates/basic.md", "hive:context", "hive:brief",
    ]  # fmt: skip


async def test_a_secret_quoted_by_a_prompt_file_is_masked(make_hive: MakeHive) -> None:
    hive = await make_hive()
    configure(hive, {"AGENTS.md": "the token is s3cret-value"}, promptSources=["AGENTS.md"])
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.READY
    text = prompt_of(cell.worktree_path)
    assert "s3cret-value" not in text and "the token is ********" in text


async def test_an_undefined_placeholder_fails_the_cell_at_assemble_prompt(
    make_hive: MakeHive,
) -> None:
    hive = await make_hive()
    configure(hive, {"docs/rules.md": "line one\n{{ cell.brnch }}\n"}, promptSources=["docs/*.md"])
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.ERROR
    failure = cell.last_setup_error
    assert failure is not None
    assert failure.step == "assemble_prompt" and failure.kind == FailureKind.PROMPT
    assert "docs/rules.md:2" in failure.message and "brnch" in failure.message


async def test_a_glob_matching_nothing_is_a_warning_and_the_cell_is_ready(
    make_hive: MakeHive,
) -> None:
    hive = await make_hive()
    configure(hive, {}, promptSources=["nothing/*.md"])
    cell = await hive.settle((await hive.create()).id)
    assert cell.status == CellStatus.READY
    [row] = [r for r in await hive.steps(cell.id) if r.step == "assemble_prompt"]
    assert row.metadata is not None
    assert row.metadata["warnings"] == ["promptSources[0] 'nothing/*.md' matches no file"]


async def test_a_workspace_base_prompt_replaces_hives(make_hive: MakeHive) -> None:
    hive = await make_hive()
    configure(hive, {"BASE.md": "OUR BASE for {{ cell.name }}"}, basePrompt="BASE.md")
    cell = await hive.settle((await hive.create("named")).id)
    text = prompt_of(cell.worktree_path)
    assert text.startswith("OUR BASE for named") and "You are working in a Hive cell" not in text


async def test_url_sources_are_fetched_cached_and_skipped_when_never_fetched(
    make_hive: MakeHive, fragment_server: FragmentServer
) -> None:
    hive = await make_hive()
    served, missing = fragment_server.url("/rules.md"), fragment_server.url("/gone.md")
    configure(hive, {}, promptSources=[served, missing])
    cell = await hive.settle((await hive.create("first")).id)
    assert cell.status == CellStatus.READY
    assert "# Remote rules" in prompt_of(cell.worktree_path)
    assert cell.prompt is not None
    [skipped] = cell.prompt["warnings"]
    assert skipped.startswith("promptSources[1]") and "skipped" in skipped

    fragment_server.stop()
    again = await hive.settle((await hive.create("second")).id)
    assert again.status == CellStatus.READY
    assert "# Remote rules" in prompt_of(again.worktree_path)
    assert again.prompt is not None and any("cached copy" in w for w in again.prompt["warnings"])
