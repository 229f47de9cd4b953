"""Benchmark: a cell that includes a big ignored `node_modules`, against `cp -a`.

Repository: 3,000 tracked files plus a gitignored `node_modules` of 20,000 small files
(and, with --large, 200 files of 1 MB). Printed: the median create → ready time of a
cell whose template includes `node_modules/**`, as a ratio against `git worktree add`
+ `cp -a` of the same tree, runs interleaved (A B A B …) because the disk's speed
drifts between runs.

With --btrfs (root, loop devices, btrfs-progs): everything lives on a fresh btrfs file
system in a loop file, the tree has the large files too, and the ratios are against
`cp -a --reflink=always` (the practical limit) and `cp -a --reflink=never` (a plain
copy).

Run: `.venv/bin/python bench/include_copy.py [--rounds N] [--btrfs]`.
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

import httpx

from _common import btrfs_mount, create_until_ready, git, hive_server

CONFIG = {
    "promptSources": [],
    "templates": {
        "deps": {
            "id": "deps",
            "label": "With dependencies",
            "type": "manual",
            "includePatterns": ["./.env*", "node_modules/**"],
        }
    },
}


def make_repository(root: Path, *, tracked: int, modules: int, large: int) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for index in range(tracked):
        path = root / f"src/pkg_{index // 100}/module_{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n" * 10)
    (root / ".gitignore").write_text("node_modules/\n.env*\n")
    (root / ".env").write_text("TOKEN=1\n")
    (root / "hive.config.json").write_text(json.dumps(CONFIG))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")
    modules_dir = root / "node_modules"
    for index in range(modules):
        package = modules_dir / f"pkg-{index // 10 % 200}" / f"lib{index // 2000}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"file_{index}.js").write_text("x" * (200 + index % 3000))
    (modules_dir / ".bin").mkdir(exist_ok=True)
    (modules_dir / ".bin" / "tool").symlink_to("../pkg-1/lib0/file_10.js")
    blob = os.urandom(1 << 20)
    for index in range(large):
        big = modules_dir / "big" / f"blob_{index}.bin"
        big.parent.mkdir(exist_ok=True)
        big.write_bytes(blob[index:] + blob[:index])
    return root


def settle() -> None:
    """Flush what the last cleanup deleted, so the next measured run starts on a quiet disk."""
    subprocess.run(["sync"], check=True)


def baseline(repo: Path, scratch: Path, index: int, cp_flags: list[str]) -> float:
    target = scratch / f"baseline-{index}"
    began = time.perf_counter()
    git(repo, "worktree", "add", "-q", "-b", f"baseline-{index}", str(target), "HEAD")
    subprocess.run(["cp", "-a", *cp_flags, str(repo / "node_modules"), str(target)], check=True)
    shutil.copy2(repo / ".env", target / ".env")
    elapsed = time.perf_counter() - began
    git(repo, "worktree", "remove", "--force", str(target))
    git(repo, "branch", "-D", f"baseline-{index}")
    settle()
    return elapsed


def hive_run(
    client: httpx.Client, workspace_id: str, index: int
) -> tuple[float, dict[str, object]]:
    body = {"workspaceId": workspace_id, "templateId": "deps", "name": f"bench {index}"}
    elapsed, cell_id = create_until_ready(client, body, poll_s=0.1)
    steps = client.get(f"/api/cells/{cell_id}/timings").json()["steps"]
    copy = next(s for s in steps if s["step"] == "create_worktree:include_copy")
    client.delete(f"/api/cells/{cell_id}")
    settle()
    return elapsed, copy["metadata"]


def measure(
    root: Path, rounds: int, large: int, baselines: dict[str, list[str]]
) -> tuple[list[float], dict[str, list[float]], dict[str, object]]:
    repo = make_repository(root / "repo", tracked=3000, modules=20_000, large=large)
    subprocess.run(["sync"], check=True)
    hive_times: list[float] = []
    base_times: dict[str, list[float]] = {name: [] for name in baselines}
    metadata: dict[str, object] = {}
    with hive_server(repo, root / "home") as server, server.client(timeout=600) as client:
        workspace_id = client.get("/api/workspaces").json()["workspaces"][0]["id"]
        runs: list[tuple[str, Callable[[int], float]]] = [
            (name, lambda i, flags=flags: baseline(repo, root, i, flags))  # type: ignore[misc]
            for name, flags in baselines.items()
        ]
        for index in range(rounds):
            for name, run in runs:
                base_times[name].append(run(index))
            elapsed, metadata = hive_run(client, workspace_id, index)
            hive_times.append(elapsed)
    return hive_times, base_times, metadata


def report(
    hive_times: list[float], base_times: dict[str, list[float]], meta: dict[str, object]
) -> None:
    hive_ms = statistics.median(hive_times) * 1000
    print(f"hive create -> ready                      median {hive_ms:8.0f} ms")
    medians = {name: statistics.median(times) * 1000 for name, times in base_times.items()}
    for name, base_ms in medians.items():
        print(f"{name:<42}median {base_ms:8.0f} ms   ratio hive/{name}: {hive_ms / base_ms:.2f}x")
    if len(medians) == 2:
        # How far the practical limit itself gets below a plain copy on this machine.
        (limit, limit_ms), (plain, plain_ms) = medians.items()
        print(f"practical limit vs plain copy: {limit_ms / plain_ms:.2f}x ({limit} / {plain})")
    keys = (
        "files",
        "symlinks",
        "bytes",
        "reflinked",
        "fallback",
        "threads",
        "worker",
        "workerCpuMs",
        "enumerateMs",
        "walkMs",
        "copyMs",
    )
    print("include-copy of the last Hive run: " + ", ".join(f"{k}={meta.get(k)}" for k in keys))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--btrfs", action="store_true", help="run on a btrfs loop file system")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hive-bench-") as tmp:
        scratch = Path(tmp)
        if not args.btrfs:
            print("ordinary disk: 3,000 tracked files, node_modules of 20,000 small files")
            hive_times, base, meta = measure(scratch, args.rounds, 0, {"worktree add + cp -a": []})
            report(hive_times, base, meta)
            return
        if os.geteuid() != 0 or shutil.which("mkfs.btrfs") is None:
            raise SystemExit("--btrfs needs root and mkfs.btrfs (apt-get install btrfs-progs)")
        with btrfs_mount(scratch / "btrfs.img", scratch / "mnt", "3G") as mount:
            print("btrfs loop: 3,000 tracked files, node_modules of 20,000 small + 200 x 1 MB")
            hive_times, base, meta = measure(
                mount,
                args.rounds,
                200,
                {
                    "worktree add + cp -a --reflink=always": ["--reflink=always"],
                    "worktree add + cp -a --reflink=never": ["--reflink=never"],
                },
            )
            report(hive_times, base, meta)


if __name__ == "__main__":
    main()
