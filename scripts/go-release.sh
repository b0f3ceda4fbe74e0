#!/usr/bin/env bash
# The Go modules' release recipe (docs/clients/go.md, "Releasing the Go modules").
#
#   bash scripts/go-release.sh check   # what CI runs (.ci/run)
#   bash scripts/go-release.sh tag     # check, then create the release's two git tags
#
# check: the layout makes `go get github.com/nexus-broker/nexus/clients/go@vX.Y.Z` work once
# the tags exist (X.Y.Z = clients/VERSION): both go.mod files declare their paths and one go
# directive, clients/go requires gen/go at vX.Y.Z, nexusauth.Version is clients/VERSION (the
# Go program scripts/go-release). Then it proves it: the two modules are written as module
# zips into a file-system module proxy, and a scratch module that imports nexusauth runs
# `go get …/clients/go@latest` with GOFLAGS=-mod=mod and GOPROXY=file://<that proxy> first
# (third-party modules from the usual GOPROXY), in an empty module cache, and builds and runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-check}"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

tmp="$(mktemp -d)"
cleanup() {
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

release() { (cd "$ROOT/scripts/go-release" && go run . -repo "$ROOT" "$@"); }

case "$cmd" in
check)
  release -proxy "$tmp/proxy"
  mkdir "$tmp/app"
  cd "$tmp/app"
  printf 'module example.com/agent\n\ngo %s\n' "$(sed -n 's/^go //p' "$ROOT/clients/go/go.mod")" >go.mod
  cat >main.go <<'GO'
package main

import (
	"fmt"
	"os"

	"github.com/nexus-broker/nexus/clients/go/nexusauth"
	nexusv1 "github.com/nexus-broker/nexus/gen/go/nexus/v1"
)

func main() {
	nexus := nexusauth.NewClient("http://localhost:8080", os.Getenv("NEXUS_API_KEY"))
	fmt.Println("nexusauth", nexusauth.Version, nexus.Connections != nil, nexusv1.ConnectionStatus_CONNECTION_STATUS_ACTIVE)
}
GO
  # The machine's module cache serves as a second proxy (read only: a fresh cache is used).
  export GOPROXY="file://$tmp/proxy,file://$(go env GOMODCACHE)/cache/download,$(go env GOPROXY)"
  export GOMODCACHE="$tmp/modcache" GONOSUMDB=github.com/nexus-broker/nexus
  go get github.com/nexus-broker/nexus/clients/go@latest
  go mod tidy
  go build -o agent .
  want="nexusauth $(tr -d '[:space:]' <"$ROOT/clients/VERSION") true CONNECTION_STATUS_ACTIVE"
  got="$(./agent)"
  [[ "$got" == "$want" ]] || { echo "go-release: the scratch agent printed '$got', not '$want'" >&2; exit 1; }
  resolved="$(GOPROXY=off go list -m -f '{{.Path}}@{{.Version}}{{if .Replace}} => {{.Replace}}{{end}}' \
    github.com/nexus-broker/nexus/clients/go github.com/nexus-broker/nexus/gen/go)"
  v="v$(tr -d '[:space:]' <"$ROOT/clients/VERSION")"
  [[ "$resolved" == "github.com/nexus-broker/nexus/clients/go@$v"$'\n'"github.com/nexus-broker/nexus/gen/go@$v" ]] \
    || { echo "go-release: resolved $resolved" >&2; exit 1; }
  echo "go-release: a scratch module fetched, built and ran $resolved from a module proxy"
  ;;
tag)
  tags="$(release -tags)"
  for t in $tags; do
    git -C "$ROOT" tag -a "$t" -m "Go module ${t%/v*} ${t##*/}"
    echo "tagged $t"
  done
  echo "push both: git push origin $(echo $tags)"
  ;;
*)
  echo "usage: $0 check|tag" >&2
  exit 2
  ;;
esac
