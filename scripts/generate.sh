#!/usr/bin/env bash
# Regenerates gen/{ts,go,python} from scratch: buf.gen.yaml (proto/, all three languages),
# then every other buf.gen.*.yaml template at the repo root, in name order (for example
# TypeScript for vendored third-party protos). Everything under gen/ts, gen/go/nexus and
# gen/python/nexus is generated and deleted first; hand-written files in gen/ (gen/go/go.mod,
# gen/go/go.sum) are kept.
# Needs node_modules (npm ci); installs the pinned Go/Python generators if missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

[[ -x node_modules/.bin/buf && -x node_modules/.bin/protoc-gen-es ]] || {
  echo "generate: node_modules/.bin/buf or protoc-gen-es missing: run 'npm ci' first" >&2
  exit 1
}

bash scripts/install-generators.sh

rm -rf gen/ts gen/go/nexus gen/python/nexus

node_modules/.bin/buf generate
shopt -s nullglob
for template in buf.gen.*.yaml; do
  echo "generate: buf generate --template $template" >&2
  node_modules/.bin/buf generate --template "$template"
done

echo "generate: wrote $(find gen -type f ! -path gen/go/go.mod ! -path gen/go/go.sum | wc -l) files under gen/" >&2
