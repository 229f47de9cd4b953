"""Fragments rendered with Jinja2: sandboxed, and strict, so a typo in a placeholder
fails naming the file, line and variable instead of leaving an empty string. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from jinja2 import FunctionLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from hive.core.errors import StepError
from hive.prompts.fragments import Fragment

_HINT = (
    "fix the placeholder in the prompt file (known: cell.*, services.<name>.*, "
    "ports.<name>, env, template.*), then retry the cell"
)


def render(fragment: Fragment, context: Mapping[str, Any]) -> str:
    """The fragment's text with its placeholders filled in; StepError names where not."""
    if not fragment.placeholders:
        return fragment.text
    environment = SandboxedEnvironment(
        # The fragment's source as the template's filename: its frames then name it.
        loader=FunctionLoader(lambda name: (fragment.text, name, lambda: True)),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    try:
        return environment.get_template(fragment.source).render(context)
    except TemplateSyntaxError as exc:
        raise _error(fragment, exc.lineno, exc.message or str(exc)) from exc
    except TemplateError as exc:  # UndefinedError, SecurityError
        line = _template_line(exc.__traceback__, fragment.source)
        raise _error(fragment, line, exc.message or str(exc)) from exc


def _template_line(tb: TracebackType | None, name: str) -> int | None:
    # Jinja rewrites the traceback so that the template's frames carry its own lines.
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _error(fragment: Fragment, line: int | None, message: str) -> StepError:
    where = f"{fragment.source}:{line}" if line is not None else fragment.source
    lines = fragment.text.splitlines()
    shown = lines[line - 1].strip() if line is not None and 0 < line <= len(lines) else None
    text = f"prompt fragment {where}: {message}" + (f" (in `{shown}`)" if shown else "")
    return StepError(text, hint=_HINT)
