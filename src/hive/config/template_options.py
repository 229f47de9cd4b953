"""A template's `options` (Python Hive extension): named choices made when a cell is
created, each choice adding env, services and setup commands.

A service listed under some choice runs only in cells where one of the choices listing
it was made; a service no choice lists always runs. The checks here keep every
combination of choices startable: a choice names only services of its template, and a
service never depends on one that could be off while it runs. Errors carry the path of
the field at fault (`options.database.default`), as pydantic's own do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, WithJsonSchema, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from hive.config.base import HiveModel, ServiceName, SetupEntry

_KEY = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _plain_key(value: str) -> str:
    if not re.fullmatch(_KEY, value):
        raise ValueError(
            f"{value!r}: option names and values are letters, digits, '_', '.' and '-', "
            "starting with a letter or digit, at most 64"
        )
    return value


#: An option's name or a choice's value: short, and plain enough for `name=value` on a
#: command line and for a prompt.
OptionKey = Annotated[
    str, AfterValidator(_plain_key), WithJsonSchema({"type": "string", "pattern": _KEY})
]

#: A location below the model being validated: keys and list indexes.
Location = tuple[str | int, ...]


class OptionChoice(HiveModel):
    """What choosing one value adds to a cell."""

    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables added to the template's (these win)."""
    services: list[ServiceName] = Field(default_factory=list)
    """Services of the template this choice turns on; a service listed under some
    choice runs only when one of those choices is made."""
    setup: list[SetupEntry] = Field(default_factory=list)
    """Setup commands run after the template's, in the same forms."""


class TemplateOption(HiveModel):
    """A named choice made when a cell is created, e.g. which database it runs."""

    label: str | None = None
    """Display name; defaults to the option's name."""
    choices: Annotated[dict[OptionKey, OptionChoice], Field(min_length=1)]
    """The values to choose from, each with what it adds."""
    default: OptionKey
    """The value a cell gets when its create request does not choose one."""

    @model_validator(mode="after")
    def _default_is_a_choice(self) -> TemplateOption:
        if self.default not in self.choices:
            raise invalid(
                "TemplateOption",
                [
                    (
                        ("default",),
                        f"{self.default!r} is not one of the choices ({_list(self.choices)})",
                    )
                ],
                self.default,
            )
        return self


def invalid(title: str, problems: Sequence[tuple[Location, str]], value: Any) -> ValidationError:
    """A ValidationError whose errors sit at the given locations below the model."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError("template_option", "{message}", {"message": message}),
                loc=location,
                input=value,
            )
            for location, message in problems
        ],
    )


def _list(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


Choice = tuple[str, str]
"""(option name, value)."""


def enabling_choices(options: Mapping[str, TemplateOption]) -> dict[str, set[Choice]]:
    """For each service some choice lists: the choices that turn it on."""
    gates: dict[str, set[Choice]] = {}
    for name, option in options.items():
        for value, choice in option.choices.items():
            for service in choice.services:
                gates.setdefault(service, set()).add((name, value))
    return gates


def _always_on(
    service: str, gates: Mapping[str, set[Choice]], options: Mapping[str, TemplateOption]
) -> bool:
    # Listed under every choice of one option, it runs whatever is chosen.
    if service not in gates:
        return True
    return any(
        all((name, value) in gates[service] for value in option.choices)
        for name, option in options.items()
    )


def enabled_services(
    services: Iterable[str], options: Mapping[str, TemplateOption], chosen: Mapping[str, str]
) -> list[str]:
    """The services a cell with these choices runs, in the template's order."""
    gates = enabling_choices(options)
    made = set(chosen.items())
    return [s for s in services if s not in gates or gates[s] & made]


def option_problems(
    options: Mapping[str, TemplateOption], dependencies: Mapping[str, Iterable[str]]
) -> list[tuple[Location, str]]:
    """What makes the options unusable with these services (`dependencies`: every
    service of the template, with the services it waits for)."""
    problems: list[tuple[Location, str]] = []
    for name, option in options.items():
        for value, choice in option.choices.items():
            for index, service in enumerate(choice.services):
                if service not in dependencies:
                    problems.append(
                        (
                            ("options", name, "choices", value, "services", index),
                            f"unknown service {service!r} (services: {_list(dependencies)})",
                        )
                    )
    if problems:
        return problems
    gates = enabling_choices(options)
    for service, needs in dependencies.items():
        for needed in needs:
            if needed in gates and not _always_on(needed, gates, options):
                # Wherever `service` runs, `needed` must run too.
                own = gates.get(service) if not _always_on(service, gates, options) else None
                missing = gates[needed]
                if own is None or not own <= missing:
                    runs = "always" if own is None else "with " + _choices(own)
                    problems.append(
                        (
                            ("services", service, "dependsOn"),
                            f"{service!r} runs {runs}, but {needed!r} runs only with "
                            f"{_choices(missing)}: list {service!r} under the same choices, "
                            f"or let {needed!r} run whatever is chosen",
                        )
                    )
    return problems


def _choices(choices: Iterable[Choice]) -> str:
    return " or ".join(f"{name}={value}" for name, value in sorted(choices))
