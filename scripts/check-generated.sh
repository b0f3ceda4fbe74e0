#!/usr/bin/env bash
# Fails when the committed gen/ is not what `npm run generate` produces from proto/:
# deletes gen/, regenerates it whole, then `git diff --exit-code gen/` and no untracked file.
# Regenerates in place, so on failure the work tree holds the fresh output: commit it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

rm -rf gen
bash scripts/generate.sh

untracked="$(git ls-files --others --exclude-standard -- gen/)"
if ! git diff --quiet --exit-code -- gen/ || [[ -n "$untracked" ]]; then
  echo "check-generated: gen/ is out of date with proto/ (run 'npm run generate' and commit gen/):" >&2
  git status --porcelain --untracked-files=all -- gen/ >&2
  git --no-pager diff --stat -- gen/ >&2
  git --no-pager diff -- gen/
  exit 1
fi
echo "check-generated: gen/ is up to date" >&2
