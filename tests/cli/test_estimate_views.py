"""A template's estimate as `hive templates` shows it, in its EST column."""

from __future__ import annotations

from typing import Any

import pytest

from hive.cli.estimate_views import estimate_text
from hive.cli.render import templates_table
from tests.cli.test_render import render

BASIS = {"cells": 3, "newest": "2024-01-03", "oldest": "2024-01-01"}


def figure(p50: float) -> dict[str, Any]:
    return {"p50": p50, "p90": None, "basis": BASIS}


@pytest.mark.parametrize(
    ("estimate", "text"),
    [
        (None, ""),
        (
            {"basis": "none", "services": 2, "ports": 1, "provisioningMs": None},
            "no history (2 services, 1 port)",
        ),
        ({"basis": "none", "services": 1, "ports": 0}, "no history (1 service, 0 ports)"),
        (
            {
                "basis": BASIS,
                "provisioningMs": {"p50": 1234.0, "p90": 2000.0, "basis": BASIS},
                "peakMemoryBytes": figure(120_000_000),
                "cpuPercent": figure(4.0),
                "diskAddedBytes": figure(40_000_000),
                "services": 2,
                "ports": 1,
            },
            "~1.2 s · 120 MB · 40 MB disk (3 cells)",
        ),
        (
            {
                "basis": {**BASIS, "cells": 1},
                "diskAddedBytes": figure(5_000),
                "peakMemoryBytes": None,
            },
            "5.0 kB disk (1 cell)",
        ),
    ],
)
def test_estimate_text(estimate: dict[str, Any] | None, text: str) -> None:
    assert estimate_text(estimate) == text


def test_the_templates_table_has_an_est_column() -> None:
    templates = [
        {"id": "web", "valid": True, "estimate": {"basis": "none", "services": 0, "ports": 0}},
        {"id": "old-server", "valid": True},
    ]
    lines = render(templates_table(templates, default_id=None), width=120)
    assert lines[0].split() == [
        "ID",
        "LABEL",
        "VALID",
        "SETUP",
        "REQUIRES",
        "OPTIONS",
        "DESCRIPTION",
        "EST",
    ]
    assert lines[1].rstrip().endswith("no history (0 services, 0 ports)")
    assert lines[2].split() == ["old-server", "yes", "0"]
