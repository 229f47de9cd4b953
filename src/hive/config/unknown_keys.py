"""Validation that ignores keys the models do not know, and says where they were.

The TypeScript Hive's schema drops unknown keys, so configs written for other
versions of Hive carry keys we have no field for. The models stay strict (the JSON
Schema for editors keeps `additionalProperties: false`); here pydantic's
`extra_forbidden` errors are taken as the list of unknown keys, which are removed
from a copy of the document before it is validated again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

#: A location in the document: keys and list indexes, outermost first.
Location = tuple[str | int, ...]

UNKNOWN_KEY = "unknown key, ignored"


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation error that is not an unknown key."""

    location: Location
    message: str
    kind: str
    """pydantic's error type, e.g. `list_type`."""
    input: Any


@dataclass(frozen=True, slots=True)
class Lenient(Generic[M]):
    """The outcome: `value` is set exactly when no error is left."""

    value: M | None
    document: Any
    """The document as last validated: without its unknown keys."""
    unknown: list[Location]
    """Where the unknown keys were, in the order they appear in the document."""
    errors: list[Problem]


def validate_lenient(
    model: type[M],
    document: Any,
    locate: Callable[[Sequence[str | int]], Location] = tuple,
) -> Lenient[M]:
    """Validate `document`, dropping unknown keys; `locate` maps a pydantic `loc` to
    the location in the document (e.g. without a union's tag)."""
    original = document
    unknown: list[Location] = []
    while True:
        try:
            value = model.model_validate(document)
        except ValidationError as exc:
            details = exc.errors()
        else:
            return Lenient(value, document, _in_order(original, unknown), [])
        extra = [locate(e["loc"]) for e in details if e["type"] == "extra_forbidden"]
        document, removed = without_keys(document, extra)
        unknown.extend(removed)
        if not removed:
            # What is left are real errors. Each pass removes a key, so this ends.
            errors = [Problem(locate(e["loc"]), e["msg"], e["type"], e["input"]) for e in details]
            return Lenient(None, document, _in_order(original, unknown), errors)


def _in_order(document: Any, locations: list[Location]) -> list[Location]:
    # pydantic reports a model's unknown keys after its fields' errors; a reader
    # expects them in the order of the file.
    def position(location: Location) -> list[int]:
        node, indexes = document, []
        for part in location:
            indexes.append(list(node).index(part) if isinstance(node, dict) else int(part))
            node = node[part]
        return indexes

    return sorted(locations, key=position)


def without_keys(document: Any, locations: Sequence[Location]) -> tuple[Any, list[Location]]:
    """A copy of `document` without the keys at `locations`, and those it removed.

    Only the objects and arrays on the way to a removed key are copied; the input is
    never changed.
    """
    removed: list[Location] = []
    for location in locations:
        if location and _has(document, location):
            document = _remove(document, location)
            removed.append(location)
    return document, removed


def _child(node: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(node, dict) and isinstance(part, str) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _has(document: Any, location: Location) -> bool:
    node = document
    for part in location:
        found, node = _child(node, part)
        if not found:
            return False
    return True


def _remove(node: Any, location: Location) -> Any:
    """`node` without the (existing) key at `location`."""
    head, rest = location[0], location[1:]
    if isinstance(node, dict) and isinstance(head, str):
        copy = dict(node)
        if rest:
            copy[head] = _remove(node[head], rest)
        else:
            del copy[head]
        return copy
    if isinstance(node, list) and isinstance(head, int) and rest:
        items = list(node)
        items[head] = _remove(node[head], rest)
        return items
    return node
