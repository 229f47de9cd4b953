"""Opaque page cursors for timing rows, keyed on the row id.

Pages run from the newest row back in time; a cursor means "rows older than id N".
Row ids only grow, so rows inserted while a client pages never shift a later page:
they are newer than every cursor already handed out.
"""

from __future__ import annotations

import base64
import binascii

_PREFIX = "t1:"


def encode_cursor(before_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{before_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor stands for; ValueError when it is not one this server made."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("not a cursor from a previous page's nextCursor") from None
    number = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not number.isdigit() or len(number) > 18:
        raise ValueError("not a cursor from a previous page's nextCursor")
    return int(number)
