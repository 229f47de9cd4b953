"""What `hive ls` and `hive templates` print, rendered by Rich as a terminal would."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

from hive.cli.render import (
    cells_table,
    print_agent,
    print_cell,
    print_setup_error,
    print_template_problems,
    relative_age,
    services_table,
    templates_table,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HEADERS = ("ID", "NAME", "STATUS", "TEMPLATE", "BRANCH", "CREATED")


def cell(cell_id: str, name: str, branch: str, age: timedelta, **fields: Any) -> dict[str, Any]:
    created = (NOW - age).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": cell_id,
        "name": name,
        "status": "ready",
        "templateId": "basic",
        "branchName": branch,
        "createdAt": created,
        **fields,
    }


def render(table: Any, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().splitlines()


def columns(lines: list[str], headers: tuple[str, ...] = HEADERS) -> list[dict[str, str]]:
    """The table's rows, each column's text joined across the lines it folded onto."""
    header, *body = lines
    starts = [header.index(name) for name in headers]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    rows: list[dict[str, list[str]]] = []
    for line in body:
        cells = {name: line[a:b].strip() for name, (a, b) in zip(headers, bounds, strict=True)}
        if cells["ID"]:
            rows.append({name: [] for name in headers})
        for name, text in cells.items():
            if text:
                rows[-1][name].append(text)
    return [{name: "".join(parts) for name, parts in row.items()} for row in rows]


def test_ls_in_80_columns_shows_ids_branches_and_ages_whole() -> None:
    cells = [
        cell("3f9a2b1c" * 4, "CLI cell", "hive/cli-cell-3f9a2b1c", timedelta(0)),
        cell(
            "0b1c2d3e" * 4, "api work", "hive/api-work-0b1c2d3e", timedelta(minutes=3, seconds=30)
        ),
        cell("9e8d7c6b" * 4, "old one", "hive/old-one-9e8d7c6b", timedelta(days=5), status="error"),
    ]
    lines = render(cells_table(cells, now=NOW))

    assert len(lines) == 4  # a header and one line per cell: nothing wrapped
    assert lines[1].split() == [
        "3f9a2b1c3f9a",
        "CLI",
        "cell",
        "ready",
        "basic",
        "hive/cli-cell-3f9a2b1c",
        "just",
        "now",
    ]
    assert lines[2].split()[-4:] == ["hive/api-work-0b1c2d3e", "3", "min", "ago"]
    assert lines[3].split()[-4:] == ["hive/old-one-9e8d7c6b", "5", "d", "ago"]
    assert all(len(line) <= 80 and "…" not in line for line in lines)


@pytest.mark.parametrize("width", [80, 70])
def test_long_names_and_branches_fold_but_the_id_column_never(width: int) -> None:
    long_name = "fix the login page redirect loop when the session expires overnight"
    long_branch = "hive/fix-the-login-page-redirect-loop-when-the-session-e-1a2b3c4d"
    template = "frontend-with-storybook-and-e2e"
    cells = [
        cell("1a2b3c4d" * 4, long_name, long_branch, timedelta(hours=2), templateId=template),
        cell("3f9a2b1c" * 4, "short", "hive/short-3f9a2b1c", timedelta(minutes=59)),
    ]
    lines = render(cells_table(cells, now=NOW), width=width)

    assert all(len(line) <= width and "…" not in line for line in lines)
    first, second = columns(lines)
    assert first["ID"] == "1a2b3c4d1a2b" and second["ID"] == "3f9a2b1c3f9a"
    assert first["BRANCH"] == long_branch and second["BRANCH"] == "hive/short-3f9a2b1c"
    # Lines break at spaces, which the join drops: compare the words.
    assert first["NAME"].replace(" ", "") == long_name.replace(" ", "")
    assert first["TEMPLATE"] == template
    assert (first["STATUS"], first["CREATED"]) == ("ready", "2 h ago")
    assert second["CREATED"] == "59 min ago"


def test_names_are_shown_as_written_not_as_markup() -> None:
    lines = render(cells_table([cell("a" * 32, "[red]odd[/]", "hive/odd", timedelta(0))], now=NOW))
    assert "[red]odd[/]" in lines[1]


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(seconds=-30), "just now"),  # a clock slightly ahead
        (timedelta(0), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 min ago"),
        (timedelta(minutes=59, seconds=59), "59 min ago"),
        (timedelta(hours=1), "1 h ago"),
        (timedelta(hours=23, minutes=59), "23 h ago"),
        (timedelta(days=1), "1 d ago"),
        (timedelta(days=400), "400 d ago"),
    ],
)
def test_relative_age(age: timedelta, shown: str) -> None:
    assert relative_age((NOW - age).isoformat().replace("+00:00", "Z"), NOW) == shown


def test_an_unreadable_timestamp_is_shown_as_it_is() -> None:
    assert relative_age("yesterday-ish", NOW) == "yesterday-ish"


def test_setup_column_counts_commands_and_never_a_strings_length() -> None:
    templates = [
        {"id": "two", "label": "[red]Two", "valid": True, "setup": ["npm ci", "npm run build"]},
        {"id": "none", "valid": True, "setup": []},
        {"id": "absent", "valid": False},
        {"id": "string", "valid": False, "setup": "npm run build"},
    ]
    lines = render(templates_table(templates, default_id="two"))
    setup = {line.split()[0]: line.split()[-1] for line in lines[1:]}
    assert setup == {"two": "2", "none": "0", "absent": "0", "string": "-"}
    assert lines[1].split()[:3] == ["two", "(default)", "[red]Two"]  # labels are not markup


def test_template_problems_name_template_and_path_warnings_in_yellow() -> None:
    templates = [
        {
            "id": "web",
            "valid": False,
            "warnings": [{"path": "templates.web.services.api.healthcheck", "message": "unknown"}],
            "errors": [{"path": "templates.web.setup[0]", "message": "should be a string"}],
        },
        {"id": "ok", "valid": True, "warnings": []},
        {"id": "web[beta]", "valid": True, "warnings": [{"path": "[x]", "message": "[bold]"}]},
    ]
    console = Console(
        width=200, record=True, file=io.StringIO(), force_terminal=True, color_system="standard"
    )
    print_template_problems(console, templates)
    assert console.export_text(clear=False).splitlines() == [
        "error web: templates.web.setup[0]: should be a string",
        "warning web: templates.web.services.api.healthcheck: unknown",
        "warning web[beta]: [x]: [bold]",  # config text, never markup
    ]
    styled = console.export_text(styles=True).splitlines()
    assert styled[0].startswith("\x1b[31merror")  # red
    assert styled[1].startswith("\x1b[33mwarning")  # yellow


def test_services_in_80_columns_show_each_ready_check_and_their_cpu_and_memory() -> None:
    services = [
        {"name": "web", "status": "ready", "port": 28704, "url": "http://127.0.0.1:28704",
         "pid": 12345, "exitCode": None, "restarts": 0, "readiness": "tcp :28704"},
        {"name": "worker", "status": "ready", "port": None, "url": None, "pid": 12346,
         "exitCode": None, "restarts": 0, "readiness": "started, still alive after 1s"},
    ]  # fmt: skip
    lines = render(services_table(services, {"web": ("112.5%", "58.9M")}))
    assert "READY WHEN" in lines[0] and "CPU" in lines[0] and "MEM" in lines[0]
    assert "EXIT" not in lines[0] and "RESTARTS" not in lines[0]  # none has any
    assert "http://127.0.0.1:28704" in lines[1] and "tcp :28704" in lines[1]
    assert "112.5%" in lines[1] and "58.9M" in lines[1]
    assert " ".join(" ".join(lines[2:]).split()).endswith("started, still alive after 1s")


def test_exit_codes_and_restarts_get_columns_once_a_service_has_one() -> None:
    services = [
        {"name": "web", "status": "ready", "port": 28704, "url": "http://127.0.0.1:28704",
         "pid": 12345, "exitCode": None, "restarts": 0, "readiness": "tcp :28704"},
        {"name": "worker", "status": "backoff", "port": None, "url": None, "pid": None,
         "exitCode": 1, "restarts": 2, "readiness": "started, still alive after 1s"},
    ]  # fmt: skip
    header, web, worker, *_ = render(services_table(services), width=110)
    assert "EXIT" in header and "RESTARTS" in header
    assert worker.split()[-7:-5] == ["1", "2"] and web.split()[-4:-2] == ["-", "0"]


def test_a_cell_and_its_failure_are_shown_as_written_not_as_markup() -> None:
    cell = {
        "id": "c" * 32, "name": "fix [red]login[/]", "status": "error", "templateId": "t",
        "workspacePath": "/w", "branchName": "hive/x", "baseRef": None, "baseCommit": None,
        "createdAt": "now", "updatedAt": "now", "description": None,
        "lastSetupError": {"step": "run_setup:1", "message": "boom [bold]x[/]",
                           "command": "echo [b]", "exitCode": 1, "hint": "fix [it]"},
    }  # fmt: skip
    out = io.StringIO()
    print_cell(Console(file=out, width=100, highlight=False), cell)
    text = out.getvalue()
    for written in ("fix [red]login[/]", "boom [bold]x[/]", "echo [b]", "fix [it]"):
        assert written in text


def test_a_failure_shows_its_kind_and_what_was_undone_on_one_line() -> None:
    error = {
        "kind": "setup_command", "step": "run_setup", "message": "exit 127", "hint": "do x",
        "rollback": [{"step": "stop_services", "status": "ok"},
                     {"step": "release_ports", "status": "failed: did not finish within 10s"}],
    }  # fmt: skip
    out = io.StringIO()
    print_setup_error(Console(file=out, width=120, highlight=False), error)
    lines = out.getvalue().splitlines()
    assert lines[0] == "failed at run_setup (setup_command): exit 127"
    assert "  undone: stop_services ok, release_ports failed: did not finish within 10s" in lines
    assert lines[-1] == "  what to do: do x"


def test_the_agent_column_says_what_each_agent_does() -> None:
    agents = [
        {"type": "opencode", "status": "working"},
        {"type": "opencode", "status": "waiting"},
        {"type": "command", "status": "stopped", "exitCode": 3},
        {"type": "none", "status": None},
    ]
    cells = [
        cell(f"{i}" * 32, f"c{i}", f"hive/c{i}", timedelta(0), agent=agent)
        for i, agent in enumerate(agents)
    ]
    with_agent = ("ID", "NAME", "STATUS", "AGENT", "TEMPLATE", "BRANCH", "CREATED")
    rows = columns(render(cells_table(cells, now=NOW), width=120), with_agent)
    assert [row["AGENT"] for row in rows] == ["working", "waiting (for you)", "stopped (3)", "-"]


def test_show_tells_the_agent_its_model_and_how_to_attach() -> None:
    console = Console(width=200, record=True, file=io.StringIO())
    print_agent(
        console,
        {
            "type": "opencode",
            "status": "waiting",
            "model": {"providerId": "anthropic", "modelId": "claude-sonnet-4"},
            "mode": "plan",
            "attach": "opencode attach http://127.0.0.1:1 --session ses_1",
            "warning": "the prompt could not be stored",
        },
    )
    text = console.export_text()
    assert "opencode waiting (for you)  anthropic/claude-sonnet-4 (plan)" in text
    assert "attach  opencode attach http://127.0.0.1:1 --session ses_1" in text
    assert "agent warning  the prompt could not be stored" in text
