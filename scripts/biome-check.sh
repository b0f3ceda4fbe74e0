#!/usr/bin/env bash
# Biome in CI (biome.json):
#   - lint: every TypeScript/JavaScript file, failing on errors (rules the existing code breaks
#     on purpose are off or warnings, listed in biome.json);
#   - format: only the files added since a base, until the whole tree has been formatted once
#     (one commit that reformats everything: until then every other change would conflict).
#     The base is NEXUS_BIOME_BASE when set, else the merge base with main on a branch, else HEAD~1.
# Format a file yourself with `npx biome format --write <file>`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

npx --no-install biome lint .

base="${NEXUS_BIOME_BASE:-}"
if [[ -z "$base" ]]; then
  if [[ "$(git rev-parse --abbrev-ref HEAD)" != main ]] && git rev-parse --verify --quiet main >/dev/null; then
    base="$(git merge-base HEAD main)"
  elif git rev-parse --verify --quiet HEAD~1 >/dev/null; then
    base=HEAD~1
  else
    echo "biome-check: no base commit; format check skipped" >&2
    exit 0
  fi
fi
mapfile -t added < <(git diff --name-only --diff-filter=A "$base" HEAD -- '*.ts' '*.tsx' '*.mts' '*.mjs' '*.js' ':!gen/**' ':!**/dist/**')
if ((${#added[@]} == 0)); then
  echo "biome-check: no file added since $base; nothing to format-check" >&2
  exit 0
fi
echo "biome-check: format of ${#added[@]} file(s) added since $base" >&2
npx --no-install biome format --files-ignore-unknown=true "${added[@]}"
