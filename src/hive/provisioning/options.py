"""A cell's template options: the values a create request chooses (checked, defaults
filled in), and the template as a cell with those values runs it. Pure.

Applying a cell's choices gives a plain `Template`: the choices' env joined to the
template's (a later option wins), only the services that are on, the choices' setup
commands after the template's. Every builder downstream (`CellEnvironment`, the start
plan, the port leases) then needs to know nothing of options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hive.config.schema import Template
from hive.config.template_options import enabled_services
from hive.core.errors import ConfigError, InvalidInputError


def choose_options(template: Template, requested: Mapping[str, str]) -> dict[str, str]:
    """Every option of the template with its value: the requested one, else its default.
    An unknown name or value is an InvalidInputError naming each."""
    problems: list[str] = []
    for name in requested:
        if name not in template.options:
            known = ", ".join(template.options) or "none"
            problems.append(
                f"options.{name}: template '{template.id}' has no option {name!r} "
                f"(options: {known})"
            )
    for name, value in requested.items():
        option = template.options.get(name)
        if option is not None and value not in option.choices:
            problems.append(
                f"options.{name}: {value!r} is not a choice ({', '.join(option.choices)})"
            )
    if problems:
        raise InvalidInputError(
            "; ".join(problems), hint="`hive templates` lists each template's options"
        )
    return {name: requested.get(name, option.default) for name, option in template.options.items()}


@dataclass(frozen=True)
class Choices:
    """What a cell chose, and where what the choices added comes from in the config."""

    chosen: Mapping[str, str] = field(default_factory=dict)
    """Every option of the template with the cell's value."""
    setup_paths: Mapping[int, str] = field(default_factory=dict)
    """Index in the applied setup → JSON path of a setup entry a choice added."""
    env_paths: Mapping[str, str] = field(default_factory=dict)
    """Env variable → JSON path of the choice that set it."""


def apply_options(template: Template, stored: Mapping[str, str] | None) -> tuple[Template, Choices]:
    """The template as a cell with the `stored` choices runs it, and those choices.

    An option added to the template since the cell was made takes its default; one
    removed is ignored. A stored value the option no longer offers is a ConfigError:
    running the cell with another choice than it was made with would be a surprise.
    """
    chosen: dict[str, str] = {}
    env = dict(template.env)
    setup = list(template.setup)
    env_paths: dict[str, str] = {}
    setup_paths: dict[int, str] = {}
    for name, option in template.options.items():
        value = (stored or {}).get(name, option.default)
        where = f"templates.{template.id}.options.{name}"
        choice = option.choices.get(value)
        if choice is None:
            raise ConfigError(
                f"{where}: the cell was made with {name}={value}, which is no longer a choice "
                f"({', '.join(option.choices)})",
                path=where,
                hint=f"add the choice {value!r} back, or make a new cell",
            )
        chosen[name] = value
        where = f"{where}.choices.{value}"
        for key, text in choice.env.items():
            env[key] = text
            env_paths[key] = f"{where}.env.{key}"
        for index, entry in enumerate(choice.setup):
            setup_paths[len(setup)] = f"{where}.setup[{index}]"
            setup.append(entry)
    if not template.options:
        return template, Choices()
    running = enabled_services(template.services, template.options, chosen)
    applied = template.model_copy(
        update={
            "env": env,
            "setup": setup,
            "services": {name: template.services[name] for name in running},
        }
    )
    return applied, Choices(chosen, setup_paths, env_paths)
