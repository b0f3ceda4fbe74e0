#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=30
// Runs the compiled CLI (dist/, made by `npm run build`); never a TypeScript loader.
//
// The Node flags above are the shipped default, repeated by `npm start` (package.json) and the
// image's ENTRYPOINT (Containerfile); test/unit/runtime/node-flags.test.ts keeps the three equal.
// --max-semi-space-size=2 caps each of V8's young-generation semi-spaces at 2 MiB. Node 24's
// default on this kind of machine is 32 MiB (the young generation is up to three of them), and
// the pages it touches while the server loads stay resident: idle RSS 144 -> 118 MiB on
// PostgreSQL, and far less growth under load, for more frequent (short) scavenges. The
// throughput side is measured in bench/RESULTS.md ("Runtime").
// --heap-growing-percent=30 starts the next full GC once the old generation has grown to 1.3x
// what survived the last one, instead of V8's adaptive factor (up to 4x). With small
// semi-spaces the requests in flight under load are promoted, then die in the old generation:
// at ~800 GetToken/s it held ~80 MiB of such garbage (119 MiB used, 37 MiB live) and RSS peaked
// at 215 MiB; with the flag 53 MiB used, RSS 175 MiB. The cost, more frequent full GCs (their
// marking mostly concurrent), is measured as server CPU per call in the same bench run.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { compileCacheOptions } from './compile-cache.js';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'nexus: the compiled server is missing (dist/src/cli/main.js).\n' +
      'Build it first: npm install && npm run build   (npm start builds it when it is missing or stale)\n',
  );
  process.exit(1);
}
// V8 keeps the code it compiles for our modules and the dependencies' on disk (Node >= 22.1), so
// a start skips most of the parsing. The build fills dist/.compile-cache with the modules a
// start loads (scripts/warm-compile-cache.mjs), so even the first start of a fresh install or
// image uses it; see ./compile-cache.js for where and when. Node files it per user (a
// subdirectory named with the uid): a user for whom it was not built and who cannot write there
// falls back to the OS temp directory, as before there was a shipped cache.
const cache = module.enableCompileCache?.(compileCacheOptions());
if (cache && cache.status === module.constants?.compileCacheStatus?.FAILED) module.enableCompileCache();
await import(main.href);
