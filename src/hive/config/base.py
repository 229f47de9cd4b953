"""What every part of the config model shares: the strict base model, its basic types
and the two forms of a setup command. schema.py and the template metadata modules
(requirements.py, template_options.py) build on it; schema.py re-exports it all."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, StringConstraints, Tag
from pydantic.alias_generators import to_camel

NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]
ServiceName = NonEmptyStr
#: JSON "number": int or float, never a numeric string or a bool, never NaN/Infinity.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class HiveModel(BaseModel):
    """Shared configuration: camelCase aliases, unknown keys reported, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        # JSON has no coercions: "5000" is not a number and 1 is not a string.
        strict=True,
        use_attribute_docstrings=True,
    )


# --- setup commands -------------------------------------------------------------


class SetupCommand(HiveModel):
    """A setup command retried on failure (Python Hive extension); a plain string is
    the same command without retries."""

    run: NonEmptyStr
    """The shell command."""
    retries: Annotated[int, Field(ge=0, le=10)] = 0
    """How many more times to run it after a failure (a transient registry error)."""
    retry_delay_ms: Annotated[Number, Field(ge=0, le=600_000)] = 1000
    """Milliseconds to wait before each further try."""


def _setup_form(value: Any) -> str | None:
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict | SetupCommand):
        return "object"
    return None  # neither: the custom error below says what is allowed


#: Tags of the `SetupEntry` union, in error locations after the entry's index; the
#: loader strips them (they are not keys in the file).
SETUP_FORMS = ("text", "object")

SetupEntry = Annotated[
    Annotated[str, Tag("text")] | Annotated[SetupCommand, Tag("object")],
    Discriminator(
        _setup_form,
        custom_error_type="setup_command",
        custom_error_message=(
            "Setup command should be a string or an object like "
            '{"run": "npm ci", "retries": 2, "retryDelayMs": 2000}'
        ),
    ),
]


def setup_commands(entries: list[str | SetupCommand]) -> tuple[SetupCommand, ...]:
    """Every entry in its object form: strings are commands without retries."""
    return tuple(e if isinstance(e, SetupCommand) else SetupCommand(run=e) for e in entries)


def positive_ms(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValueError("must be a positive number of milliseconds")
    return value
