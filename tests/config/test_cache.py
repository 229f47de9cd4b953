from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hive.config import ConfigCache
from hive.core.errors import ConfigError


def write(path: Path, label: str) -> None:
    path.write_text(json.dumps({"templates": {"web": {"label": label}}}))


def bump_mtime(path: Path) -> None:
    # Move the mtime on explicitly: two writes can share a timestamp on coarse clocks.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def label(cache: ConfigCache, root: Path) -> str:
    entry = cache.get(root).template("web")
    assert entry is not None and entry.template is not None
    return entry.template.label


def test_same_object_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "hive.config.json"
    write(path, "one")
    cache = ConfigCache()
    first = cache.get(tmp_path)
    assert cache.get(tmp_path) is first

    write(path, "two")
    bump_mtime(path)
    second = cache.get(tmp_path)
    assert second is not first
    assert label(cache, tmp_path) == "two"
    assert cache.get(tmp_path) is second


def test_size_change_alone_triggers_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "hive.config.json"
    write(path, "one")
    cache = ConfigCache()
    first = cache.get(tmp_path)
    mtime = path.stat().st_mtime_ns
    write(path, "longer label")
    os.utime(path, ns=(mtime, mtime))
    assert cache.get(tmp_path) is not first
    assert label(cache, tmp_path) == "longer label"


def test_switching_to_jsonc_reloads(tmp_path: Path) -> None:
    cache = ConfigCache()
    json_path = tmp_path / "hive.config.json"
    write(json_path, "json")
    assert label(cache, tmp_path) == "json"
    json_path.unlink()
    write(tmp_path / "hive.config.jsonc", "jsonc")
    assert label(cache, tmp_path) == "jsonc"


def test_invalidate_forces_a_reload(tmp_path: Path) -> None:
    write(tmp_path / "hive.config.json", "one")
    cache = ConfigCache()
    first = cache.get(tmp_path)
    cache.invalidate(tmp_path)
    assert cache.get(tmp_path) is not first


def test_missing_file_raises_and_forgets(tmp_path: Path) -> None:
    path = tmp_path / "hive.config.json"
    write(path, "one")
    cache = ConfigCache()
    cache.get(tmp_path)
    path.unlink()
    with pytest.raises(ConfigError):
        cache.get(tmp_path)


def test_concurrent_gets_agree(tmp_path: Path) -> None:
    write(tmp_path / "hive.config.json", "one")
    cache = ConfigCache()
    first = cache.get(tmp_path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: cache.get(tmp_path), range(64)))
    assert all(r is first for r in results)


async def test_aget(tmp_path: Path) -> None:
    write(tmp_path / "hive.config.json", "one")
    cache = ConfigCache()
    config = await cache.aget(tmp_path)
    assert await cache.aget(tmp_path) is config
    assert cache.get(tmp_path) is config
