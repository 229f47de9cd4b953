#!/usr/bin/env bash
# Debian packages the test suite uses, installed only when missing (a second run installs
# nothing). Without root or apt-get it says what is missing; the tests that need it skip.
set -euo pipefail

# command-that-proves-it-is-there:debian-package
needed=(
  "mkfs.btrfs:btrfs-progs"   # reflink tests on a btrfs loop file system
  "filefrag:e2fsprogs"       # shows that a clone shares extents
  "tmux:tmux"                # command agents run in a detached tmux session per cell
  "chromium:chromium"        # the web UI's page tests (Playwright drives it; no download)
)

missing=()
for pair in "${needed[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
# A PostgreSQL server per cell in the services tests (its binaries are off PATH).
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing[*]} (install them for the full suite; those tests skip)" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
