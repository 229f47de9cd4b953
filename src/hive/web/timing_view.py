"""How timing pages show what the timings API answers: a step's metadata as readable
label/value pairs, and a cell's runs as waterfalls (bars placed by start, sized by
duration, the critical chain marked). Presentation only: the figures are the API's."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hive.api.schemas import CriticalChain, TimingOut
from hive.core.sizes import human_bytes
from hive.web.rendering import duration

#: Longest a listed value is shown (a list of missing files can be long).
_SHOWN_CHARS = 160


def _label(key: str) -> str:
    """`reflinkedBytes` → `reflinked bytes`, `timeoutS` → `timeout s`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", key).lower()


def _text(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if key == "bytes" or key.endswith("Bytes"):
            return human_bytes(value)
        if key.endswith("Ms"):
            return duration(float(value))
        if key.endswith("S") and key[:-1].islower():
            return f"{value:g} s"
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list):
        shown = ", ".join(_text("", item) for item in value) if value else "none"
    elif isinstance(value, Mapping):
        shown = ", ".join(f"{k}: {_text(k, v)}" for k, v in value.items()) or "none"
    else:
        shown = str(value)
    return shown if len(shown) <= _SHOWN_CHARS else shown[: _SHOWN_CHARS - 1] + "…"


def _copy_method(meta: Mapping[str, Any]) -> str | None:
    """What an include-copy did, in words: how many files were cloned copy-on-write
    (reflink) and how many copied byte by byte because the file system could not."""
    reflinked, fallback = meta.get("reflinked"), meta.get("fallback")
    if not isinstance(reflinked, int) or not isinstance(fallback, int):
        return None
    files = meta.get("files", reflinked + fallback)
    counted = f"{files} file{'' if files == 1 else 's'}"
    if not reflinked and not fallback:
        return f"{counted}, nothing copied"
    if not fallback:
        return f"{counted}, all reflinked (copy-on-write)"
    if not reflinked:
        return f"{counted}, all copied (fallback: no reflink here)"
    return f"{counted}: {reflinked} reflinked, {fallback} copied (fallback)"


def metadata_items(meta: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """A step's metadata as (label, text) pairs in its own order, an include-copy's
    method first."""
    if not meta:
        return []
    items = [(_label(key), _text(key, value)) for key, value in meta.items()]
    method = _copy_method(meta)
    return [("copy", method), *items] if method else items


@dataclass(frozen=True)
class Bar:
    step: str
    depth: int
    """0 for a step, 1 for a sub-step (`step:part`)."""
    status: str
    duration_ms: float
    offset_ms: float
    left: float
    """Percent of the run's span before the bar."""
    width: float
    """Percent of the run's span the bar takes."""
    critical: bool


@dataclass(frozen=True)
class Waterfall:
    run: dict[str, Any]
    """The API's run summary: workflow, runId, attempt, startedAt, totalMs, status."""
    span_ms: float
    bars: list[Bar]


def _ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def waterfalls(
    steps: Sequence[TimingOut], runs: Sequence[dict[str, Any]], chain: CriticalChain | None
) -> list[Waterfall]:
    """One waterfall per run, newest first; bars in the order steps began."""
    critical = {link.step for link in chain.links} if chain and chain.run_id else set()
    drawn = []
    for run in reversed(runs):
        own = sorted((s for s in steps if s.run_id == run["runId"]), key=lambda s: s.started_at)
        if not own:
            continue
        start = min(_ms(s.started_at) for s in own)
        span = max(max(_ms(s.started_at) + s.duration_ms for s in own) - start, 1e-3)
        on_chain = chain is not None and chain.run_id == run["runId"]
        drawn.append(
            Waterfall(
                run=run,
                span_ms=span,
                bars=[
                    Bar(
                        step=s.step,
                        depth=1 if ":" in s.step else 0,
                        status=s.status,
                        duration_ms=s.duration_ms,
                        offset_ms=_ms(s.started_at) - start,
                        left=round((_ms(s.started_at) - start) / span * 100, 3),
                        width=round(s.duration_ms / span * 100, 3),
                        critical=on_chain and s.step in critical,
                    )
                    for s in own
                ],
            )
        )
    return drawn
