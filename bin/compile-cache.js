// Where every `nexus` process keeps V8's compiled code (Node's module compile cache): shared by
// bin/nexus.js and scripts/warm-compile-cache.mjs, which fills it at build time.
import { fileURLToPath } from 'node:url';

/** The cache the build ships, beside the code it caches: dist/.compile-cache. */
export const SHIPPED_COMPILE_CACHE = fileURLToPath(new URL('../dist/.compile-cache', import.meta.url));

/**
 * module.enableCompileCache's argument. On Node 24.12+ the shipped cache, portable (its keys
 * are paths relative to the cache directory, so it stays valid when the tree is copied, as
 * into the image's /app). On older Node: undefined, i.e. NODE_COMPILE_CACHE or the OS temp
 * directory, filled by the first start. NODE_COMPILE_CACHE, when set, wins either way (Node
 * enables it before any of our code runs); NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
export function compileCacheOptions() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 24 || (major === 24 && minor >= 12)) return { directory: SHIPPED_COMPILE_CACHE, portable: true };
  return undefined;
}
