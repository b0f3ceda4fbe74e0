#!/usr/bin/env bash
# Regenerates gen/{ts,go,python} from proto/ with buf.gen.yaml, from scratch.
# Hand-written files in gen/ (gen/go/go.mod, gen/go/go.sum) are kept.
# Needs node_modules (npm ci); installs the pinned Go/Python generators if missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

[[ -x node_modules/.bin/buf && -x node_modules/.bin/protoc-gen-es ]] || {
  echo "generate: node_modules/.bin/buf or protoc-gen-es missing: run 'npm ci' first" >&2
  exit 1
}

bash scripts/install-generators.sh

# Generated trees only: everything buf.gen.yaml writes lives under these.
rm -rf gen/ts gen/go/nexus gen/python/nexus

node_modules/.bin/buf generate

echo "generate: wrote $(find gen/ts gen/go/nexus gen/python/nexus -type f | wc -l) files under gen/" >&2
