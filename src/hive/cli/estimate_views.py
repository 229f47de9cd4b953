"""A template's estimate in one short cell of `hive templates`: `~1.2 s · 120 MB · 40 MB
disk (3 cells)`, or `no history (2 services, 1 port)`."""

from __future__ import annotations

from typing import Any

from hive.cli.timing_views import duration
from hive.core.sizes import human_bytes


def _p50(estimate: dict[str, Any], key: str) -> float | None:
    figure = estimate.get(key)
    return float(figure["p50"]) if isinstance(figure, dict) else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def estimate_text(estimate: dict[str, Any] | None) -> str:
    """Empty when the server sent none (an invalid template, an older server)."""
    if not estimate:
        return ""
    basis = estimate.get("basis")
    if not isinstance(basis, dict):
        footprint = ", ".join(
            (
                _plural(int(estimate.get("services", 0)), "service"),
                _plural(int(estimate.get("ports", 0)), "port"),
            )
        )
        return f"no history ({footprint})"
    parts = []
    if (took := _p50(estimate, "provisioningMs")) is not None:
        parts.append(f"~{duration(took)}")
    if (memory := _p50(estimate, "peakMemoryBytes")) is not None:
        parts.append(human_bytes(memory))
    if (disk := _p50(estimate, "diskAddedBytes")) is not None:
        parts.append(f"{human_bytes(disk)} disk")
    return f"{' · '.join(parts)} ({_plural(int(basis.get('cells', 0)), 'cell')})"
