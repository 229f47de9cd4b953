"""What `hive ls` and `hive templates` print, rendered by Rich as a terminal would."""

from __future__ import annotations

import io

from rich.console import Console

from hive.cli.render import print_template_problems


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
