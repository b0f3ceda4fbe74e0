// Builds what `npm start` and the `nexus` bin run:
//   server  tsc -p tsconfig.build.json: src/ and gen/ts/ compiled to dist/ (dist/src/cli/main.js)
//   web     vite: the Manage Connections web app (web/) into web/dist, served under /manage/
//
//   node scripts/build.mjs [--if-needed] [server] [web]     (no target: both)
//
// `--if-needed` (npm start's prestart, the test global setup) builds a target only when its
// output is missing or older than its sources. Plain JavaScript, so that it runs without a
// TypeScript loader; the compilers it calls (typescript, vite) are dev dependencies: in an
// install without them, a present build is used as it is and a missing one is an error.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const at = (...parts) => path.join(ROOT, ...parts);

/** Each target: what it is made from, and the file whose time says when it was last built. */
const TARGETS = {
  server: {
    sources: [at('src'), at('gen', 'ts'), at('tsconfig.json'), at('tsconfig.build.json')],
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
  writeFileSync(TARGETS.server.stamp, `${new Date().toISOString()}\n`);
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
