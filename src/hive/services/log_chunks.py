"""Follow an append-only log as text chunks, each with the byte offset it reaches.

Unlike `logs.follow` (whole lines, rotation-proof), this sends what is written as soon
as it is written, partial lines included (a progress bar redraws with `\\r`), and says
exactly where each chunk ends, so a reader that comes back resumes at that byte.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hive.services.setup_log import CHUNK_BYTES, read_chunk


@dataclass(frozen=True)
class TextChunk:
    text: str
    end: int
    """The byte offset just after this chunk's bytes."""


async def follow_chunks(
    path: Path,
    *,
    after: int,
    settled: Callable[[], Awaitable[bool]],
    poll_s: float = 0.1,
    max_bytes: int = CHUNK_BYTES,
) -> AsyncIterator[TextChunk]:
    """Chunks written after byte `after`, until `settled()` says no more will come and
    everything written before it said so has been yielded (it is not asked again).

    Reads at most `max_bytes` at a time, in a thread. A UTF-8 character split between
    two reads is held back until its last byte is there, so no chunk ends inside one.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    offset, finished = after, False
    while True:
        data = await asyncio.to_thread(read_chunk, path, offset, max_bytes)
        if not data:
            if finished:
                rest = decoder.decode(b"", final=True)
                if rest:
                    yield TextChunk(rest, offset)
                return
            # Asked after an empty read, then read to the end once more: what was
            # written before the writer settled is all sent. It is not asked again.
            finished = await settled()
            if not finished:
                await asyncio.sleep(poll_s)
            continue
        offset += len(data)
        text = decoder.decode(data)
        if text:
            held, _flag = decoder.getstate()
            yield TextChunk(text, offset - len(held))
