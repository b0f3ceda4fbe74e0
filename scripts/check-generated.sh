#!/usr/bin/env bash
# Fails when the committed gen/ is not what `npm run generate` produces from proto/.
# Regenerates in place, so on failure the work tree holds the fresh output: commit it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/generate.sh

status="$(git status --porcelain --untracked-files=all -- gen/)"
if [[ -n "$status" ]]; then
  echo "check-generated: gen/ is out of date with proto/ (run 'npm run generate' and commit gen/):" >&2
  echo "$status" >&2
  git --no-pager diff --stat -- gen/ >&2
  git --no-pager diff -- gen/
  exit 1
fi
echo "check-generated: gen/ is up to date" >&2
