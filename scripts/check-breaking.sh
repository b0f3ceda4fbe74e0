#!/usr/bin/env bash
# Fails when proto/ breaks the wire or JSON form of the API (buf.yaml `breaking: WIRE_JSON`)
# compared with a base commit:
#   - NEXUS_BREAKING_AGAINST=<git ref> when set;
#   - on a branch other than main: the merge base with main (local `main`, else `origin/main`);
#   - on main itself (or when there is no main): the previous commit, HEAD~1.
# Works in a fresh clone, shallow included: a missing base commit is fetched from `origin`.
#
# A deliberate break before 1.0 is accepted only when it is recorded: a commit between the
# base and HEAD carries the trailer `Proto-Breaking: recorded in CHANGELOG.md` AND that range
# changes CHANGELOG.md. The breaks are printed either way.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() { echo "check-breaking: $*" >&2; exit 2; }
git rev-parse --git-dir >/dev/null 2>&1 || die "not a git checkout"

have() { git rev-parse --verify --quiet "$1^{commit}" >/dev/null; }

branch="$(git rev-parse --abbrev-ref HEAD)"
if [[ -n "${NEXUS_BREAKING_AGAINST:-}" ]]; then
  ref="$NEXUS_BREAKING_AGAINST"
  have "$ref" || git fetch --quiet origin "$ref" 2>/dev/null || true
  have "$ref" || ref=FETCH_HEAD
elif [[ "$branch" != main ]] && { have main || have origin/main || git fetch --quiet origin main:refs/remotes/origin/main 2>/dev/null; }; then
  main_ref=main
  have main || main_ref=origin/main
  if ! ref="$(git merge-base HEAD "$main_ref" 2>/dev/null)"; then
    # Shallow clone: deepen until the histories meet.
    git fetch --quiet --deepen=200 origin 2>/dev/null || true
    ref="$(git merge-base HEAD "$main_ref")" || die "no merge base between HEAD and $main_ref"
  fi
else
  have HEAD~1 || git fetch --quiet --deepen=1 origin 2>/dev/null || true
  have HEAD~1 || { echo "check-breaking: HEAD has no parent; nothing to compare" >&2; exit 0; }
  ref=HEAD~1
fi
base="$(git rev-parse --verify "$ref^{commit}")" || die "cannot resolve $ref"
head="$(git rev-parse HEAD)"
echo "check-breaking: proto/ at HEAD ($head) against $ref ($base)" >&2

# The base's proto/ and buf.yaml, checked out into a temporary directory (no network, no BSR).
against="$(mktemp -d)"
trap 'rm -rf "$against"' EXIT
git archive "$base" -- proto buf.yaml | tar -x -C "$against"

if out="$(npx --no-install buf breaking --against "$against" 2>&1)"; then
  echo "check-breaking: no breaking change" >&2
  exit 0
fi
echo "$out"
if [[ "$base" != "$head" ]] \
  && git log --format=%B "$base..$head" | grep -q '^Proto-Breaking: recorded in CHANGELOG.md$' \
  && ! git diff --quiet "$base" "$head" -- CHANGELOG.md; then
  echo "check-breaking: the breaks above are recorded (Proto-Breaking trailer, CHANGELOG.md changed): accepted" >&2
  exit 0
fi
echo "check-breaking: proto/ breaks the API against $ref. Undo the break, or record it (pre-1.0 only): list it in" >&2
echo "CHANGELOG.md under 'Breaking API changes' and add the trailer 'Proto-Breaking: recorded in CHANGELOG.md'." >&2
exit 1
