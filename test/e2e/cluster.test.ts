import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing, newId } from '../../src/crypto/index.js';
import { sealCredentials } from '../../src/domain/connections/sealed-credentials.js';
import { oauthProvider } from '../support/fixtures.js';
import type { TestAuthServer } from '../support/oauth-server.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, clients } from '../support/test-app.js';

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

const readyPids = (server: ServerProcess) =>
  new Set(
    logLines(server)
      .filter((l) => l.msg === 'nexus is ready')
      .map((l) => l.pid),
  );

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

/** GET /metrics on a new TCP connection (the primary hands it to the next worker). */
function scrapeMetrics(baseUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`${baseUrl}/metrics`, { agent: false, headers: { connection: 'close' }, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics answered ${res.statusCode}`))));
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error('/metrics did not answer within 10 s'));
      })
      .on('error', reject);
  });
}

describe('nexus start --workers (node:cluster)', () => {
  let db: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startServerProcess(
      {
        DATABASE_URL: db.url,
        NEXUS_ENCRYPTION_KEYS: KeyRing.generate('w1').toSpec(),
        NEXUS_ADMIN_API_KEY: ADMIN_KEY,
        NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
        NEXUS_WORKERS: '2',
      },
      120_000,
    ); // the primary migrates first, then each worker boots: slow on a busy 2-core machine
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
    const served = new Set(
      logLines(server)
        .filter((l) => l.msg === 'request completed')
        .map((l) => l.pid),
    );
    expect([...served].sort()).toEqual([...workers].sort());

    // One scrape, whichever worker answers it, counts the calls every worker served.
    for (let scrape = 0; scrape < 3; scrape++) {
      const text = await scrapeMetrics(server.baseUrl);
      const line = text.split('\n').find((l) => l.startsWith('nexus_rpc_requests_total{service="nexus.v1.ProviderService",method="ListProviders",code="ok"}'));
      expect(Number(line?.split(' ').at(-1))).toBe(12);
    }
  });

  it('replaces a worker that dies', { timeout: 120_000 }, async () => {
    const [victim] = [...readyPids(server)];
    process.kill(victim!, 'SIGKILL');
    // node:cluster's round-robin hands a new connection to a worker until the primary has seen it
    // exit; one handed to the dead worker in that instant is never answered (a Node limitation,
    // docs/scale-out.md). Scrape once the primary has taken the victim out of the rotation.
    await until('the primary to see the worker exit', () =>
      logLines(server).some((l) => l.msg === 'worker exited; starting a replacement' && l.pid === server.pid),
    );
    // While the replacement boots, scrapes keep answering at once: a starting worker answers
    // the primary's collection (with nothing yet) instead of leaving it to time out.
    do {
      const started = Date.now();
      await scrapeMetrics(server.baseUrl);
      expect(Date.now() - started).toBeLessThan(4_000);
      await new Promise((r) => setTimeout(r, 200));
    } while (readyPids(server).size < 3);
    await until('a replacement worker', () => readyPids(server).size === 3);
    for (let i = 0; i < 6; i++) expect(await freshCall(server.baseUrl)).toBe(200);
  });

  it('drains every worker and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
    const before = logLines(server).filter((l) => l.msg === 'shutting down').length;
    expect(before).toBe(0);
    expect(await server.stop('SIGTERM')).toBe(0);
    const drained = new Set(
      logLines(server)
        .filter((l) => l.msg === 'shutting down')
        .map((l) => l.pid),
    );
    // The killed worker never shut down; the two living ones (the original survivor and the replacement) did.
    expect(drained.size).toBe(2);
    for (const pid of drained) expect(readyPids(server).has(pid)).toBe(true);
    expect(logLines(server).some((l) => l.msg === 'shutting down workers' && l.pid === server.pid)).toBe(true);
  });
});

describe('nexus start --workers: SIGTERM while a request is in flight', () => {
  it('lets the worker finish the GetToken it is serving, then exits 0', { timeout: 300_000 }, async () => {
    // A token endpoint that holds its answer until told to release it.
    let refreshes = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slow = http.createServer((req, res) => {
      refreshes++;
      req.resume();
      void released.then(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ access_token: 'after-drain', token_type: 'Bearer', expires_in: 3600 }));
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
    const db = await createTestDatabase();
    const ring = KeyRing.generate('d1');
    const server = await startServerProcess(
      {
        DATABASE_URL: db.url,
        NEXUS_ENCRYPTION_KEYS: ring.toSpec(),
        NEXUS_ADMIN_API_KEY: ADMIN_KEY,
        NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
        NEXUS_WORKERS: '2',
        // Only the GetToken below may call the token endpoint.
        NEXUS_REFRESH_WORKER: 'false',
        // The token endpoint is on loopback: allow-listed, as an operator would.
        NEXUS_OUTBOUND_ALLOWED_HOSTS: new URL(slowUrl).host,
      },
      120_000,
    );
    try {
      const api = clients(server.baseUrl, ADMIN_KEY);
      const endpoints = {
        clientId: 'slow',
        clientSecret: 'slow-secret',
        authorizationUrl: `${slowUrl}/authorize`,
        tokenUrl: `${slowUrl}/token`,
        revocationUrl: `${slowUrl}/revoke`,
      };
      const provider = (await api.providers.createProvider({ provider: oauthProvider(endpoints as TestAuthServer, { name: 'slow-oauth' }) })).provider!.id;
      // An active connection whose access token has expired: the next GetToken must refresh.
      const id = newId('conn');
      const sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      await sql.query(
        `INSERT INTO connections (id, project_id, workspace_id, provider_id, status, scopes, return_url, credentials_sealed, token_expires_at)
         VALUES ($1, 'prj_default', 'drain', $2, 'ACTIVE', '{}', 'https://app.example.com/connections/return', $3, now() - interval '1 minute')`,
        [id, provider, sealCredentials(ring, id, { accessToken: 'before', tokenType: 'Bearer', refreshToken: 'rt', expiresAt: Date.now() - 60_000 })],
      );
      await sql.end();

      const inFlight = api.tokens.getToken({ connectionId: id });
      await until('the refresh to reach the token endpoint', () => refreshes === 1, 30_000);
      const exited = server.stop('SIGTERM');
      await new Promise((r) => setTimeout(r, 1_000));
      release();
      const answer = (await inFlight).credential!;
      expect(answer.credentials.case).toBe('oauth2');
      expect((answer.credentials.value as { accessToken: string }).accessToken).toBe('after-drain');
      expect(await exited).toBe(0);
      expect(logLines(server).filter((l) => l.msg === 'shutting down').length).toBe(2);
    } finally {
      release();
      await server.stop('SIGKILL');
      await db.drop();
      await new Promise((r) => slow.close(r));
    }
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
