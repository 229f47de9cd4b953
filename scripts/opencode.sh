#!/usr/bin/env bash
# The OpenCode binary the agent tests run (`opencode serve`), from the npm registry into
# .cache/opencode. A second run installs nothing: the binary already reports the version.
# Without npm it says so and exits 0; the OpenCode tests then skip, naming the reason.
set -euo pipefail

version="${OPENCODE_VERSION:-1.18.33}"
package="opencode-linux-x64"
dir="${OPENCODE_CACHE_DIR:-.cache/opencode}"
binary="$dir/node_modules/$package/bin/opencode"

if [ -x "$binary" ] && [ "$("$binary" --version 2>/dev/null)" = "$version" ]; then
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "opencode: $package is for Linux x86_64 only (the OpenCode tests skip)" >&2
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "opencode: npm is missing, cannot install $package@$version (the OpenCode tests skip)" >&2
  exit 0
fi
echo "opencode: installing $package@$version into $dir"
mkdir -p "$dir"
npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock \
  --loglevel=error "$package@$version" >/dev/null
got="$("$binary" --version)"
if [ "$got" != "$version" ]; then
  echo "opencode: $binary reports $got, expected $version" >&2
  exit 1
fi
