"""The copy-on-write checkout's clone helper: a real second copy worker process."""

from __future__ import annotations

import time
from pathlib import Path

from hive.workspace.cow_job import CloneHelper
from hive.workspace.tracked_clone import Vouched

_U32 = 0xFFFFFFFF


def _tree(root: Path, files: int) -> list[Vouched]:
    vouched = []
    for index in range(files):
        path = root / f"d{index // 100}" / f"file-with-a-longer-name-{index}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{index}\n")
        st = path.stat()
        rel = str(path.relative_to(root))
        vouched.append(
            Vouched(
                rel,
                0o100644,
                st.st_mtime_ns,
                st.st_ctime_ns,
                st.st_size,
                st.st_ino & _U32,
                st.st_uid,
                st.st_gid,
            )
        )
    return vouched


def test_the_helper_clones_its_share_and_answers(tmp_path: Path) -> None:
    files = _tree(tmp_path / "main", 300)
    helper = CloneHelper()
    try:
        helper.clone(str(tmp_path / "main"), str(tmp_path / "cell"), files)
        done = helper.result()
    finally:
        helper.close()
    assert [c.path for c in done.cloned] == [f.path for f in files]
    assert done.changed == []
    assert (tmp_path / "cell" / files[-1].path).read_text() == "299\n"


def test_an_answer_nobody_reads_does_not_keep_the_helper(tmp_path: Path) -> None:
    # The leader failed after the helper had finished: its answer (far more than a pipe
    # holds) is never read. Closing must end it, not leave it blocked until killed.
    files = _tree(tmp_path / "main", 3000)
    helper = CloneHelper()
    helper.clone(str(tmp_path / "main"), str(tmp_path / "cell"), files)
    last = tmp_path / "cell" / files[-1].path
    deadline = time.monotonic() + 60
    while not last.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert last.exists(), "the helper cloned its share"
    helper.close()
    assert helper.returncode == 0, "it ended on its own (a killed helper has -9)"
    assert not Path(f"/proc/{helper.pid}").exists()
