"""Benchmark: copy-on-write checkouts against `git worktree add`, on btrfs and on ext4.

Repository: 10,000 tracked source files (200 B to 16 KB) plus 50 large ones (4 MB each),
about 280 MB. A template
without setup or include patterns, so create → ready is the checkout plus Hive's fixed
costs. Runs interleave (A B A B …) and medians are compared, because the disk's speed
drifts between runs.

- btrfs (a loop file system; the repository and HIVE_WORKTREES_ROOT on it): create →
  ready vs `git worktree add` (target <= 0.5x); bytes a cell holds exclusively, from
  `btrfs filesystem du`, and the free space it took, vs a plain worktree (target <= 5%);
  `git status` in the cell vs in a plain worktree, first run and later runs (<= 1.2x).
- ext4 (the ordinary disk): the same create → ready, where the checkout falls back to
  git, vs the same Hive with copy-on-write off (HIVE_COW_CHECKOUT=0, target <= 1.05x)
  and vs `git worktree add`.

Run: `.venv/bin/python bench/checkout.py [--rounds N] [--skip-btrfs] [--skip-ext4]`
(btrfs needs root, loop devices and btrfs-progs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from _common import btrfs_mount, create_until_ready, git, hive_server

SMALL, LARGE, LARGE_BYTES = 10_000, 50, 4 << 20
CONFIG = {
    "promptSources": [],
    "templates": {"plain": {"id": "plain", "label": "Plain", "type": "manual"}},
}


def make_repository(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for index in range(SMALL):
        path = root / f"src/pkg_{index // 100}/module_{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        line = f"VALUE_{index} = {index}\n"
        path.write_text(line * ((200 + index * 7919 % 16_000) // len(line)))
    blob = os.urandom(LARGE_BYTES)
    for index in range(LARGE):
        path = root / "assets" / f"blob_{index}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(blob[index:] + blob[:index])
    tool = root / "bin" / "run.sh"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    (root / "current").symlink_to("src/pkg_0")
    (root / "hive.config.json").write_text(json.dumps(CONFIG))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")
    # As in a checkout someone works in: `git status` ran there after the files were
    # written, so the index vouches for them (entries written in its own second are racy).
    time.sleep(1.1)
    git(root, "status", "--porcelain")
    subprocess.run(["sync"], check=True)
    return root


def settle() -> None:
    subprocess.run(["sync"], check=True)


def sync_s() -> float:
    """Seconds until what was just written has reached the disk."""
    began = time.perf_counter()
    settle()
    return time.perf_counter() - began


def plain_worktree(repo: Path, cells: Path, index: int) -> tuple[float, Path]:
    target = cells / f"plain-{index}"
    began = time.perf_counter()
    git(repo, "worktree", "add", "-q", "-b", f"plain-{index}", str(target), "HEAD")
    return time.perf_counter() - began, target


def drop_plain(repo: Path, target: Path) -> None:
    git(repo, "worktree", "remove", "--force", str(target))
    git(repo, "branch", "-D", target.name)
    settle()


def hive_cell(
    client: httpx.Client, workspace: str, index: int
) -> tuple[float, str, dict[str, Any]]:
    body = {"workspaceId": workspace, "templateId": "plain", "name": f"bench {index}"}
    elapsed, cell_id = create_until_ready(client, body, poll_s=0.02)
    steps = client.get(f"/api/cells/{cell_id}/timings").json()["steps"]
    meta = next(s for s in steps if s["step"] == "create_worktree")["metadata"]
    return elapsed, cell_id, meta


def drop_cell(client: httpx.Client, cell_id: str) -> None:
    client.delete(f"/api/cells/{cell_id}")
    settle()


def cell_path(client: httpx.Client, cell_id: str) -> Path:
    return Path(client.get(f"/api/cells/{cell_id}").json()["worktreePath"])


def status_s(path: Path) -> float:
    began = time.perf_counter()
    command = ["git", "-C", str(path), "status", "--porcelain"]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - began


def exclusive_bytes(path: Path) -> int:
    settle()
    out = subprocess.run(
        ["btrfs", "filesystem", "du", "-s", "--raw", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[-1]
    return int(out.split()[1])  # Total, Exclusive, Set shared, Filename


def free_bytes(path: Path) -> int:
    settle()
    subprocess.run(["btrfs", "filesystem", "sync", str(path)], check=True, capture_output=True)
    return shutil.disk_usage(path).free


def ratio_line(name: str, times: list[float], base_name: str, base: list[float]) -> str:
    a, b = statistics.median(times) * 1000, statistics.median(base) * 1000
    return f"{name:<34} median {a:8.0f} ms   {base_name} {b:8.0f} ms   ratio {a / b:.2f}x"


def interleave(rounds: int, runs: list[Callable[[int], float]]) -> list[list[float]]:
    """A B C, C B A, A B C …: no candidate always runs right after the same one."""
    results: list[list[float]] = [[] for _ in runs]
    for index in range(rounds):
        order = list(enumerate(runs))
        for slot, run in order if index % 2 == 0 else reversed(order):
            results[slot].append(run(index))
    return results


def bench_btrfs(scratch: Path, rounds: int) -> None:
    with btrfs_mount(scratch / "btrfs.img", scratch / "mnt", "4G") as mount:
        repo = make_repository(mount / "repo")
        cells = mount / "cells"
        cells.mkdir()
        env = {"HIVE_WORKTREES_ROOT": str(cells)}
        with hive_server(repo, mount / "home", env) as server, server.client(timeout=600) as client:
            workspace = client.get("/api/workspaces").json()["workspaces"][0]["id"]
            meta: dict[str, Any] = {}

            flushed: dict[str, list[float]] = {"plain": [], "hive": []}

            def plain(index: int) -> float:
                elapsed, target = plain_worktree(repo, cells, index)
                flushed["plain"].append(elapsed + sync_s())
                drop_plain(repo, target)
                return elapsed

            def hive(index: int) -> float:
                nonlocal meta
                elapsed, cell_id, meta = hive_cell(client, workspace, index)
                flushed["hive"].append(elapsed + sync_s())
                drop_cell(client, cell_id)
                return elapsed

            plain_times, hive_times = interleave(rounds, [plain, hive])
            print(f"btrfs loop: {SMALL:,} files + {LARGE} x 4 MB, cells on the same file system")
            print(ratio_line("hive create -> ready (cow)", hive_times, "worktree add", plain_times))
            # What the machine did: the same, until the written data reached the disk.
            hive_s, plain_s = flushed["hive"], flushed["plain"]
            print(ratio_line("  ... + sync", hive_s, "worktree add + sync", plain_s))
            keys = ("checkout", "checkoutReason", "filesCloned", "filesCheckedOut", "planMs")
            keys += ("addMs", "cloneMs", "cloneProcesses", "gitMs", "indexMs", "racyEntries")  # type: ignore[assignment]
            print("  create_worktree: " + ", ".join(f"{k}={meta.get(k)}" for k in keys))

            # Disk and `git status`: one cell and one plain worktree side by side.
            before = free_bytes(mount)
            _, cell_id, _ = hive_cell(client, workspace, 1000)
            cow_free = before - free_bytes(mount)
            cow_path = cell_path(client, cell_id)
            before = free_bytes(mount)
            _, plain_path = plain_worktree(repo, cells, 1000)
            plain_free = before - free_bytes(mount)
            cow_excl, plain_excl = exclusive_bytes(cow_path), exclusive_bytes(plain_path)
            print(
                f"disk per cell: exclusive {cow_excl / 1e6:.2f} MB vs plain"
                f" {plain_excl / 1e6:.1f} MB ({cow_excl / plain_excl:.1%}); free space taken"
                f" {cow_free / 1e6:.1f} MB vs {plain_free / 1e6:.1f} MB"
                f" ({cow_free / plain_free:.1%})"
            )
            first_cow, first_plain = status_s(cow_path), status_s(plain_path)
            cow_status, plain_status = interleave(
                max(rounds, 5), [lambda _i: status_s(cow_path), lambda _i: status_s(plain_path)]
            )
            print(
                f"git status, first run: cell {first_cow * 1000:.0f} ms,"
                f" plain worktree {first_plain * 1000:.0f} ms ({first_cow / first_plain:.2f}x)"
            )
            later = "git status in the cell (later runs)"
            print(ratio_line(later, cow_status, "plain", plain_status))
            drop_cell(client, cell_id)
            drop_plain(repo, plain_path)


def bench_ext4(scratch: Path, rounds: int) -> None:
    repo = make_repository(scratch / "repo")
    cells = scratch / "plain-cells"
    cells.mkdir()
    with (
        hive_server(repo, scratch / "home-on") as on,
        hive_server(repo, scratch / "home-off", {"HIVE_COW_CHECKOUT": "0"}) as off,
        on.client(timeout=600) as client_on,
        off.client(timeout=600) as client_off,
    ):
        ws_on = client_on.get("/api/workspaces").json()["workspaces"][0]["id"]
        ws_off = client_off.get("/api/workspaces").json()["workspaces"][0]["id"]
        meta: dict[str, Any] = {}

        def plain(index: int) -> float:
            elapsed, target = plain_worktree(repo, cells, index)
            drop_plain(repo, target)
            return elapsed

        def hive_on(index: int) -> float:
            nonlocal meta
            elapsed, cell_id, meta = hive_cell(client_on, ws_on, index)
            drop_cell(client_on, cell_id)
            return elapsed

        def hive_off(index: int) -> float:
            elapsed, cell_id, _ = hive_cell(client_off, ws_off, index + 10_000)
            drop_cell(client_off, cell_id)
            return elapsed

        plain_times, on_times, off_times = interleave(rounds, [plain, hive_on, hive_off])
        print(f"ext4: {SMALL:,} files + {LARGE} x 4 MB")
        print(ratio_line("hive create -> ready (fallback)", on_times, "cow off", off_times))
        print(ratio_line("hive create -> ready (fallback)", on_times, "worktree add", plain_times))
        reason = meta.get("checkoutReason")
        print(f"  create_worktree: checkout={meta.get('checkout')}, reason={reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-btrfs", action="store_true")
    parser.add_argument("--skip-ext4", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
        scratch = Path(tmp)
        if not args.skip_btrfs:
            if os.geteuid() != 0 or shutil.which("mkfs.btrfs") is None:
                raise SystemExit("btrfs needs root and mkfs.btrfs (or pass --skip-btrfs)")
            bench_btrfs(scratch, args.rounds)
        if not args.skip_ext4:
            bench_ext4(scratch / "ext4", args.rounds)


if __name__ == "__main__":
    main()
