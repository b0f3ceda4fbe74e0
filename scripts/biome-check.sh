#!/usr/bin/env bash
# Biome in CI (biome.json): lint and format of every TypeScript/JavaScript file the
# configuration includes (gen/, dist/ and the Python client are excluded there).
# Lint fails on errors (rules the existing code breaks on purpose are off or warnings,
# listed in biome.json); format fails on any file that `npm run format` would change.
# Fix formatting with `npm run format` (or `npx biome format --write <file>`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

npx --no-install biome lint .
npx --no-install biome format .
