import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY } from '../support/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface LogLine {
  pid: number;
  msg: string;
  signal?: string;
}

function logLines(server: ServerProcess): LogLine[] {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

const readyPids = (server: ServerProcess) => new Set(logLines(server).filter((l) => l.msg === 'nexus is ready').map((l) => l.pid));

async function until(what: string, test: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A public Connect RPC (ListProviders) on a new TCP connection, so the primary hands it to the next worker. */
function freshCall(baseUrl: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}/nexus.v1.ProviderService/ListProviders`,
      { method: 'POST', agent: false, headers: { connection: 'close', 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

describe('nexus start --workers (node:cluster)', () => {
  let db: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServerProcess({
      DATABASE_URL: db.url,
      NEXUS_ENCRYPTION_KEYS: KeyRing.generate('w1').toSpec(),
      NEXUS_ADMIN_API_KEY: ADMIN_KEY,
      NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
      NEXUS_WORKERS: '2',
    }, 120_000); // the primary migrates first, then each worker boots: slow on a busy 2-core machine
    // /readyz answers as soon as one worker listens; wait for both.
    await until('two workers', () => readyPids(server).size === 2);
  }, 300_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await db?.drop();
  });

  it('serves requests from more than one worker process', { timeout: 60_000 }, async () => {
    const workers = readyPids(server);
    expect(workers.has(server.pid)).toBe(false); // the primary only hands out connections
    for (let i = 0; i < 12; i++) expect(await freshCall(server.baseUrl)).toBe(200);
    await until('request logs', () => logLines(server).filter((l) => l.msg === 'request completed').length >= 12, 10_000);
    const served = new Set(logLines(server).filter((l) => l.msg === 'request completed').map((l) => l.pid));
    expect([...served].sort()).toEqual([...workers].sort());
  });

  it('replaces a worker that dies', { timeout: 120_000 }, async () => {
    const [victim] = [...readyPids(server)];
    process.kill(victim!, 'SIGKILL');
    await until('a replacement worker', () => readyPids(server).size === 3);
    expect(logLines(server).some((l) => l.msg === 'worker exited; starting a replacement' && l.pid === server.pid)).toBe(true);
    for (let i = 0; i < 6; i++) expect(await freshCall(server.baseUrl)).toBe(200);
  });

  it('drains every worker and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
    const before = logLines(server).filter((l) => l.msg === 'shutting down').length;
    expect(before).toBe(0);
    expect(await server.stop('SIGTERM')).toBe(0);
    const drained = new Set(logLines(server).filter((l) => l.msg === 'shutting down').map((l) => l.pid));
    // The killed worker never shut down; the two living ones (the original survivor and the replacement) did.
    expect(drained.size).toBe(2);
    for (const pid of drained) expect(readyPids(server).has(pid)).toBe(true);
    expect(logLines(server).some((l) => l.msg === 'shutting down workers' && l.pid === server.pid)).toBe(true);
  });
});

describe('nexus start --workers with the embedded database', () => {
  it('refuses more than one worker with a clear error', { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-cluster-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, NEXUS_DATA_DIR: dataDir, PORT: '0' };
      delete env.DATABASE_URL;
      const run = promisify(execFile)(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'start', '--workers', '2'], { cwd: ROOT, env });
      await expect(run).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('the embedded database (PGlite) can only be used by one process'),
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
