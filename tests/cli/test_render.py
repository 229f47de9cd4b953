"""What `hive ls` and `hive templates` print, rendered by Rich as a terminal would."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from hive.cli.render import print_template_problems, templates_table


def render(table: Any, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().splitlines()


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
