#!/usr/bin/env bash
# Installs the pinned code generators that buf.gen.yaml uses into .tools/ (gitignored):
#   .tools/bin/protoc-gen-go, .tools/bin/protoc-gen-connect-go   (go install)
#   .tools/venv  with grpcio-tools (bundles protoc, the python and grpc_python generators) and
#                mypy-protobuf (protoc-gen-mypy, protoc-gen-mypy_grpc: the .pyi stubs)
# protoc-gen-es comes from node_modules (npm ci), buf from node_modules too.
# Idempotent: does nothing when the pinned versions are already installed.
set -euo pipefail

# Pinned versions. Changing one changes the generated code: run `npm run generate` and commit gen/.
PROTOC_GEN_GO_VERSION="v1.36.12"        # google.golang.org/protobuf/cmd/protoc-gen-go
PROTOC_GEN_CONNECT_GO_VERSION="v1.21.1" # connectrpc.com/connect/cmd/protoc-gen-connect-go
# Python: grpcio-tools and its dependencies, pinned in scripts/generators-requirements.txt.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
VENV="$TOOLS/venv"
mkdir -p "$BIN"

log() { echo "install-generators: $*" >&2; }

# has_version NAME VERSION: whether .tools/bin/NAME exists and `NAME --version` ends with VERSION,
# with or without its leading "v" (protoc-gen-go prints "protoc-gen-go v1.36.12",
# protoc-gen-connect-go prints "1.21.1").
has_version() {
  local have
  [[ -x "$BIN/$1" ]] || return 1
  have="$("$BIN/$1" --version 2>/dev/null || true)"
  have="${have##* }"
  [[ -n "$have" && "${have#v}" == "${2#v}" ]]
}

# go_tool NAME PACKAGE VERSION: installs PACKAGE@VERSION into .tools/bin unless already there.
go_tool() {
  local name="$1" pkg="$2" version="$3"
  has_version "$name" "$version" && return 0
  command -v go >/dev/null || { log "go is required to install $name"; exit 1; }
  log "installing $pkg@$version"
  GOBIN="$BIN" go install "$pkg@$version"
  has_version "$name" "$version" || { log "$name does not report version $version"; exit 1; }
}

go_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
go_tool protoc-gen-connect-go connectrpc.com/connect/cmd/protoc-gen-connect-go "$PROTOC_GEN_CONNECT_GO_VERSION"

# The venv is (re)built when the pinned requirements differ from the ones it was built with.
REQUIREMENTS="$ROOT/scripts/generators-requirements.txt"
STAMP="$VENV/.nexus-generators-requirements"
venv_ok() {
  cmp -s "$REQUIREMENTS" "$STAMP" && "$VENV/bin/python" -c 'import grpc_tools.protoc' >/dev/null 2>&1
}
if ! venv_ok; then
  PYTHON="${PYTHON:-python3}"
  command -v "$PYTHON" >/dev/null || { log "python3 is required"; exit 1; }
  if ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$VENV" # missing, or built with a Python that is gone
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  log "installing $(grep -v '^#' "$REQUIREMENTS" | tr '\n' ' ')"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$STAMP"
fi

log "ok: protoc-gen-go $PROTOC_GEN_GO_VERSION, protoc-gen-connect-go $PROTOC_GEN_CONNECT_GO_VERSION, $("$VENV/bin/python" -m pip freeze --disable-pip-version-check | grep -i "^grpcio-tools=="), $("$ROOT/scripts/protoc" --version)"
