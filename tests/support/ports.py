"""Service ports for a test process: each pytest-xdist worker leases from its own slice
of Hive's range, so two workers' cells never pick the same free port at the same time."""

from __future__ import annotations

import os

_LOW, _HIGH = 20000, 29999
_SLICES = 8


def worker_port_range() -> tuple[int, int]:
    """The whole range without xdist; `gwN`'s eighth of it under xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return (_LOW, _HIGH)
    width = (_HIGH - _LOW + 1) // _SLICES
    low = _LOW + (int(worker[2:]) % _SLICES) * width
    return (low, low + width - 1)
