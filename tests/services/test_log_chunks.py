"""follow_chunks on a real file: partial lines as written, characters never cut, the
end only after what was written before the writer settled."""

from __future__ import annotations

from pathlib import Path

from hive.services.log_chunks import TextChunk, follow_chunks


async def test_everything_written_before_settling_comes_then_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "setup.log"
    path.write_bytes(b"a partial line")
    asked = 0

    async def settled() -> bool:
        nonlocal asked
        asked += 1
        # The writer's last bytes land just before it says it is done.
        with path.open("ab") as handle:
            handle.write(b" ended\ndone\n")
        return True

    chunks = [c async for c in follow_chunks(path, after=0, settled=settled, poll_s=0)]
    assert "".join(c.text for c in chunks) == "a partial line ended\ndone\n"
    assert chunks[0] == TextChunk("a partial line", 14)
    assert chunks[-1].end == path.stat().st_size
    assert asked == 1, "once settled, it only reads what is left"


async def test_a_character_split_between_reads_waits_for_its_last_byte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "setup.log"
    path.write_bytes("aé!".encode())  # 61 c3 a9 21

    async def settled() -> bool:
        return True

    chunks = [c async for c in follow_chunks(path, after=0, settled=settled, max_bytes=1)]
    assert chunks == [TextChunk("a", 1), TextChunk("é", 3), TextChunk("!", 4)]
    # A chunk that ends one byte into "é" reaches only the byte before it.
    chunks = [c async for c in follow_chunks(path, after=0, settled=settled, max_bytes=2)]
    assert chunks == [TextChunk("a", 1), TextChunk("é!", 4)]


async def test_it_resumes_after_a_byte_and_waits_for_a_log_not_there_yet(
    tmp_path: Path,
) -> None:
    path = tmp_path / "setup.log"
    waited = 0

    async def settled() -> bool:
        nonlocal waited
        waited += 1
        if waited == 2:  # the log appears while the reader waits
            path.write_bytes(b"old\nnew\n")
        return waited > 2

    chunks = [c async for c in follow_chunks(path, after=4, settled=settled, poll_s=0)]
    assert chunks == [TextChunk("new\n", 8)]


async def test_a_truncated_character_at_the_end_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "setup.log"
    path.write_bytes(b"ok\n\xc3")  # a command killed mid-character

    async def settled() -> bool:
        return True

    chunks = [c async for c in follow_chunks(path, after=0, settled=settled)]
    assert chunks == [TextChunk("ok\n", 3), TextChunk("\ufffd", 4)]
