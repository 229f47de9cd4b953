"""Requests for fuzzing an OpenAPI operation with schemathesis, aimed at real things.

`Real` values (ids of things that exist) stand in for generated ones, so requests get
past the 404s. Text is also sent in risky shapes: once each, in every text parameter
of every operation (`text_sweep`), and at random while Hypothesis fuzzes (`mixed`).
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation

#: Per parameter name: real values, and how many times more often than generated ones
#: the fuzzer sends them (the sweep sends the first as the base of every request).
Real = Mapping[str, tuple[list[Any], int]]


def risky(text: str, *, json: bool) -> list[str]:
    """`text` in shapes that break path and ref handling: home-directory expansion,
    option parsing, C strings (a NUL hides anywhere), lines, names longer than a file
    name can be, and (JSON can escape them, a URL cannot) lone surrogates."""
    shapes = [f"~{text}", f"-{text}", f"{text}\0", f"\0{text}", f" {text}\n", text + "x" * 300]
    return [*shapes, f"{text}\ud800"] if json else shapes


def either(
    usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any], odds: int
) -> st.SearchStrategy[Any]:
    """`usual` `odds` times as often as `other`; shrinks toward `usual`."""
    return st.integers(0, odds).flatmap(lambda n: other if n == odds else usual)


def mixed(values: Any, real: Real, *, json: bool) -> st.SearchStrategy[Any]:
    """Generated parameters (a dict) with real values mixed in and text made risky."""
    if not isinstance(values, dict):
        return st.just(values)
    picks: dict[str, st.SearchStrategy[Any]] = {}
    for key, value in values.items():
        own = st.just(value)
        if isinstance(value, str) or value is None:  # None: an optional text left out
            own = either(own, st.sampled_from(risky(value or "", json=json)), 1)
        if key in real:
            known, odds = real[key]
            own = either(st.sampled_from(known), own, odds)
        picks[key] = own
    return st.fixed_dictionaries(picks)


def _takes_text(schema: Mapping[str, Any]) -> bool:
    """Whether a JSON Schema takes free text (FastAPI writes `str | None` as anyOf)."""
    if "enum" in schema:
        return False
    return schema.get("type") == "string" or any(_takes_text(s) for s in schema.get("anyOf", []))


def _base(name: str, schema: Mapping[str, Any], real: Real) -> Any:
    if name in real:
        return real[name][0][0]
    if "enum" in schema:
        return schema["enum"][0]
    return schema.get("default", "x")


def _body_schema(operation: APIOperation, document: Mapping[str, Any]) -> dict[str, Any] | None:
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    if "$ref" in schema:  # FastAPI refers to its models by name
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return dict(schema)


def text_sweep(operation: APIOperation, document: Mapping[str, Any], real: Real) -> list[Case]:
    """One request per text parameter and risky shape; the rest of each request is real
    where known and plain where not (required parameters only)."""
    base: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "body": {}}
    texts: list[tuple[str, str]] = []
    for param in operation.definition.raw.get("parameters", []):
        where, name, schema = param["in"], param["name"], param.get("schema", {})
        if where not in ("path", "query"):
            continue
        if param.get("required"):
            base[where][name] = _base(name, schema, real)
        if _takes_text(schema):
            texts.append((where, name))
    body = _body_schema(operation, document)
    if body is not None:
        properties = body.get("properties", {})
        for name in body.get("required", []):
            base["body"][name] = _base(name, properties[name], real)
        texts += [("body", name) for name, schema in properties.items() if _takes_text(schema)]
    cases = []
    for where, name in texts:
        seeds = dict.fromkeys(["x", *real.get(name, ([], 0))[0][:1]])
        for shaped in (s for seed in seeds for s in risky(seed, json=where == "body")):
            parts = {part: dict(values) for part, values in base.items()}
            parts[where][name] = shaped
            extra = {"body": parts["body"]} if body is not None else {}
            cases.append(
                operation.Case(path_parameters=parts["path"], query=parts["query"], **extra)
            )
    return cases


def failure_messages(exc: BaseException) -> list[str]:
    """What each failure says (schemathesis' own report, with a curl to reproduce it)."""
    if isinstance(exc, FailureGroup):
        return [exc.message]
    if isinstance(exc, BaseExceptionGroup):
        return [text for inner in exc.exceptions for text in failure_messages(inner)]
    return ["".join(traceback.format_exception_only(exc))]
