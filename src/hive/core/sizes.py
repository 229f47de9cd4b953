"""Byte counts for people: decimal units (1 GB = 10^9 bytes), as `df -H` and disks say."""

from __future__ import annotations

KB = 1000
MB = 1000 * KB
GB = 1000 * MB

_UNITS = (("TB", 1000 * GB), ("GB", GB), ("MB", MB), ("kB", KB))


def human_bytes(count: float) -> str:
    """`812 MB`, `4.1 GB`, `12 kB`, `900 B`: two significant digits at most below ten."""
    count = max(0.0, float(count))
    for unit, size in _UNITS:
        if count >= size:
            value = count / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{count:.0f} B"
