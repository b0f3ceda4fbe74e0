// Builds what `npm start` and the `nexus` bin run:
//   server  tsc -p tsconfig.build.json: src/ and gen/ts/ compiled to dist/ (dist/src/cli/main.js),
//           then dist/.compile-cache (V8's code for what a start loads: scripts/warm-compile-cache.mjs)
//   web     vite: the Manage Connections web app (web/) into web/dist, served under /manage/
//
//   node scripts/build.mjs [--if-needed] [server] [web]     (no target: both)
//
// `--if-needed` (npm start's prestart, the test global setup) builds a target only when its
// output is missing or older than its sources. Plain JavaScript, so that it runs without a
// TypeScript loader; the compilers it calls (typescript, vite) are dev dependencies: in an
// install without them, a present build is used as it is and a missing one is an error.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const at = (...parts) => path.join(ROOT, ...parts);

/** Each target: what it is made from, and the file whose time says when it was last built. */
const TARGETS = {
  server: {
    sources: [
      at('src'),
      at('gen', 'ts'),
      at('tsconfig.json'),
      at('tsconfig.build.json'),
      // What makes dist/.compile-cache.
      at('scripts', 'build.mjs'),
      at('scripts', 'warm-compile-cache.mjs'),
      at('bin', 'compile-cache.js'),
    ],
    stamp: at('dist', '.built'),
    compiler: 'typescript',
    build: buildServer,
  },
  web: {
    sources: [at('web', 'src'), at('web', 'index.html'), at('web', 'vite.config.ts'), at('gen', 'ts'), at('clients', 'ts', 'src')],
    stamp: at('web', 'dist', 'index.html'),
    compiler: 'vite',
    build: buildWeb,
  },
};

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(p).reduce((max, name) => Math.max(max, newestMtime(path.join(p, name))), st.mtimeMs);
}

/** Whether a target's output exists and is newer than every one of its sources. */
export function isCurrent(name) {
  const { sources, stamp } = TARGETS[name];
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return sources.every((s) => newestMtime(s) <= built);
}

function installed(pkg) {
  try {
    createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

async function buildServer() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', at('tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${run.status ?? run.signal})`);
  pruneStaleOutput();
  warmCompileCache();
  writeFileSync(TARGETS.server.stamp, `${new Date().toISOString()}\n`);
}

/**
 * Deletes compiled files whose TypeScript source is gone (a module moved or deleted since the
 * last build): tsc's incremental build never removes them, and they would be shipped, loaded by
 * warm-compile-cache.mjs (which imports every module in dist/) and could shadow nothing but
 * still fail there on a vanished import.
 */
export function pruneStaleOutput() {
  for (const top of ['src', path.join('gen', 'ts')]) {
    const dir = at('dist', top);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const source = /^(.*)\.(?:js|js\.map|d\.ts|d\.ts\.map)$/.exec(file)?.[1];
      if (source === undefined || existsSync(at(top, `${source}.ts`))) continue;
      rmSync(path.join(dir, file), { force: true });
    }
  }
}

/** bin/nexus.js's shebang flags (`#!/usr/bin/env -S node --flag=value ...`): the shipped default. */
export function shippedNodeFlags() {
  const shebang = readFileSync(at('bin', 'nexus.js'), 'utf8').split('\n')[0];
  return shebang.split(' ').filter((w) => w.startsWith('--'));
}

/**
 * Fills dist/.compile-cache afresh (scripts/warm-compile-cache.mjs, then `nexus --help` for the
 * CLI entry), with the shipped Node flags: V8 files its cache under a hash of them, and a start
 * with other flags would not find it. NODE_COMPILE_CACHE is unset so the shipped directory is used.
 */
export function warmCompileCache() {
  rmSync(at('dist', '.compile-cache'), { recursive: true, force: true });
  const env = { ...process.env };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  for (const args of [[at('scripts', 'warm-compile-cache.mjs')], [at('bin', 'nexus.js'), '--help']]) {
    const run = spawnSync(process.execPath, [...shippedNodeFlags(), ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (run.status !== 0) throw new Error(`${path.basename(args[0])} failed while filling the compile cache (exit ${run.status ?? run.signal})`);
  }
}

async function buildWeb() {
  const { build } = await import('vite');
  await build({ configFile: at('web', 'vite.config.ts'), logLevel: 'warn' });
}

/**
 * Builds the named targets (default: both). With `ifNeeded`, only stale or
 * missing ones; a stale one whose compiler is not installed is left as it is
 * (a production install runs what was shipped). Returns the targets built.
 */
export async function build({ ifNeeded = false, targets = ['server', 'web'], log = console.log } = {}) {
  const built = [];
  for (const name of targets) {
    const target = TARGETS[name];
    if (!target) throw new Error(`unknown build target "${name}" (server, web)`);
    if (ifNeeded && isCurrent(name)) continue;
    if (ifNeeded && !installed(target.compiler)) {
      if (existsSync(target.stamp)) continue;
      if (name === 'web') {
        // Not fatal: the server starts and /manage/ says the app is not built.
        log(`web app not built: ${target.compiler} is not installed (install dev dependencies, then npm run build:web)`);
        continue;
      }
      throw new Error(`dist/ is missing and ${target.compiler} is not installed: run npm install, then npm run build`);
    }
    await target.build();
    built.push(name);
    log(`built ${name}`);
  }
  return built;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const targets = args.filter((a) => !a.startsWith('--'));
  build({ ifNeeded: args.includes('--if-needed'), ...(targets.length ? { targets } : {}) }).catch((err) => {
    console.error(`build: ${err instanceof Error ? err.message : err}`);
    process.exitCode = 1;
  });
}
