// Fills dist/.compile-cache, the V8 compile cache the build ships (run by scripts/build.mjs
// after tsc, with the shipped Node flags: V8 keys its cache by them). bin/nexus.js reads this
// cache when NODE_COMPILE_CACHE is not set, so even the first start of a fresh install or of
// the image skips parsing the ~1,300 modules a server loads (bench/RESULTS.md, "Production
// runtime": about 0.4 s of a 1.1 s first start on a quiet machine).
//
// It loads, without running anything: every compiled module of ours except the CLI entry
// (dist/src/cli/main.js runs a command when imported; `nexus --help`, run by the build after
// this, caches it), and the dependencies loaded lazily on the start path (the PostgreSQL
// driver TypeORM requires, fastify's logger adapter and schema compilers).
import { readdirSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileCacheOptions } from '../bin/compile-cache.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const options = compileCacheOptions();
if (!options) {
  console.log(
    `compile cache not shipped: Node ${process.version} has no portable compile cache (24.12+); the first start fills NODE_COMPILE_CACHE or the OS temp directory`,
  );
  process.exit(0);
}
const { status, message } = module.enableCompileCache(options);
if (status !== module.constants.compileCacheStatus.ENABLED) throw new Error(`compile cache not enabled (status ${status}): ${message ?? ''}`);

const entry = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const ours = readdirSync(path.join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.js'))
  .map((f) => path.join(ROOT, 'dist', f))
  .filter((f) => f !== entry)
  .sort();
for (const file of ours) await import(pathToFileURL(file).href);
// TypeORM requires `pg` from its own location when a PostgreSQL DataSource initialises.
createRequire(createRequire(import.meta.url).resolve('typeorm'))('pg');
// fastify loads its logger adapter and its schema compilers (ajv, fast-json-stringify) when an
// app with a logger and a route with schemas gets ready: one such app, never listening.
const { default: Fastify } = await import('fastify');
const { default: pino } = await import('pino');
const app = Fastify({ loggerInstance: pino({ level: 'silent' }) });
const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
app.post('/', { schema: { body: schema, response: { 200: schema } } }, async () => ({ ok: true }));
await app.ready();
await app.inject({ method: 'POST', url: '/', payload: { ok: true } });
await app.close();
module.flushCompileCache();
