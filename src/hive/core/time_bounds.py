"""`since`/`until` bounds of timing queries: an ISO 8601 instant or a relative age.

The rule: `<n><unit>` with unit `d`, `h`, `m` or `s` means that long before `now`
(`1d`, `2h`, `30m`); anything else must be an ISO 8601 timestamp, read as UTC when it
carries no offset. The result is in the stored form (`2026-01-01T00:00:00.000Z`),
which sorts as text, so the database compares bounds with plain string comparison.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"(\d{1,6})([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def stored_form(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_bound(text: str, now: datetime) -> str:
    """The instant `text` names, in stored form; ValueError says what is accepted."""
    relative = _RELATIVE.fullmatch(text.strip())
    if relative:
        amount, unit = relative.groups()
        return stored_form(now - timedelta(**{_UNITS[unit]: int(amount)}))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"'{text}' is neither an ISO 8601 timestamp (2026-01-31T12:00:00Z) "
            "nor a relative age like 1d, 2h, 30m or 45s"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return stored_form(moment)
