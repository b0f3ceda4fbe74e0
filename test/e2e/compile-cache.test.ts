import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedNodeFlags } from '../../scripts/build.mjs';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess } from '../support/server-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ADMIN_KEY = 'nxs_compile_cache_test_admin_key_0123456789';

/** Makes a directory and everything under it read-only (as the image's /app), or writable again. */
function setWritable(dir: string, writable: boolean): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? (writable ? 0o755 : 0o555) : writable ? 0o644 : 0o444);
  chmodSync(dir, writable ? 0o755 : 0o555);
}

// The compile cache the build ships (dist/.compile-cache, scripts/warm-compile-cache.mjs): a
// server started from a copy of the install in another directory (as the image's /app), whose
// cache nobody can write, compiles none of the modules it loads until it answers a GetToken.
// Node's NODE_DEBUG_NATIVE=COMPILE_CACHE log names every module's cache hit or miss.
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
// Older Node has no portable cache, and the build ships none (bin/compile-cache.js).
describe.skipIf(major < 24 || (major === 24 && minor < 12))('the compile cache the build ships', () => {
  let db: TestDatabase;
  let copy: string;
  beforeAll(() => {
    mkdirSync(path.join(ROOT, '.scratch'), { recursive: true });
    copy = mkdtempSync(path.join(ROOT, '.scratch', 'compile-cache-'));
    for (const part of ['bin', 'dist', 'package.json']) cpSync(path.join(ROOT, part), path.join(copy, part), { recursive: true });
    // Hard links (same file system): a copy of the dependencies at their new path, in a second.
    execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules')]);
    setWritable(path.join(copy, 'dist', '.compile-cache'), false);
  });
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    if (copy) {
      setWritable(path.join(copy, 'dist', '.compile-cache'), true);
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('serves a moved, read-only install from the cache: no module compiled afresh', { timeout: 120_000 }, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
    delete env.NODE_COMPILE_CACHE;
    delete env.NODE_DISABLE_COMPILE_CACHE;
    const server = await startServerProcess(
      { DATABASE_URL: db.url, NEXUS_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`, NEXUS_ADMIN_API_KEY: ADMIN_KEY },
      90_000,
      { command: process.execPath, args: [...shippedNodeFlags(), path.join(copy, 'bin', 'nexus.js'), 'start'], env },
    );
    try {
      // The GetToken path (auth, quotas, audit, the store): a connection that does not exist.
      const res = await fetch(`${server.baseUrl}/nexus.v1.TokenService/GetToken`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ connectionId: 'con_missing' }),
      });
      expect(res.status).toBe(404);
    } finally {
      await server.stop();
    }
    const log = server.output();
    const cacheDir = path.join(copy, 'dist', '.compile-cache');
    expect(log).toContain(`resolved path ${cacheDir}`);
    const hits = log.split('\n').filter((l) => l.includes('[compile cache] V8 code cache for') && l.includes('was accepted'));
    const misses = log.split('\n').filter((l) => /\[compile cache\] V8 code cache for .* was (not initialized|rejected)/.test(l));
    expect(misses, misses.join('\n')).toEqual([]);
    // Our modules and the dependencies, at their new path.
    expect(hits.length).toBeGreaterThan(1000);
    expect(hits.some((l) => l.includes(path.join(copy, 'dist', 'src', 'transport')))).toBe(true);
    expect(hits.some((l) => l.includes(path.join(copy, 'node_modules', 'typeorm')))).toBe(true);
    expect(hits.some((l) => l.includes(path.join(copy, 'node_modules', 'pg')))).toBe(true);
  });
});
