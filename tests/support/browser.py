"""Debian's Chromium driven by Playwright (no browser download), for page tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: The flags a closed network and a root user need: no sandbox (root), no calls home
#: (each would be refused, many at a time, and slow the start down).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium_binary() -> Path | None:
    """`HIVE_TEST_CHROMIUM`, else Debian's `chromium` on PATH (`make test` installs it)."""
    explicit = os.environ.get("HIVE_TEST_CHROMIUM")
    if explicit:
        return Path(explicit)
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None
