import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/ports.js';
import { startServerProcess } from '../support/server-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const KEY = /nxs_[A-Za-z0-9_-]{20,}/;

/** /readyz may answer a moment before the ready log line (stdout) and the block (stderr) are written. */
async function screenOf(server: { output(): string }): Promise<string> {
  const done = () => server.output().includes('Nexus is ready.') && server.output().includes('"msg":"nexus is ready"');
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  return server.output();
}

async function publicTables(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

// What a person meets on the first `nexus start`, and on the first mistake: the compiled CLI, a fresh PostgreSQL database.
describe('nexus start: first screen and first mistakes', () => {
  let db: TestDatabase;
  const env = () => {
    const e: Record<string, string> = { DATABASE_URL: db.url, NEXUS_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` };
    return e;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a busy port stops the start before migrations run or a key is printed', { timeout: 60_000 }, async () => {
    const busy: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env(), PORT: String(port), HOST: '127.0.0.1' };
      delete childEnv.NEXUS_ADMIN_API_KEY;
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'start'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c));
      child.stderr!.on('data', (c: Buffer) => (out += c));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, out).toBe(1);
      expect(out).toContain(`nexus: port ${port} on 127.0.0.1 is already in use`);
      expect(out).not.toMatch(KEY);
      expect(out).not.toContain('Admin API key');
      expect(out).not.toContain('    at '); // no stack trace
      // Nothing was migrated: the database is as empty as it was made.
      expect(await publicTables(db.url)).toBe(0);
    } finally {
      busy.close();
    }
  });

  it('prints one block with the URLs and the new admin key; GET / answers with an index', { timeout: 120_000 }, async () => {
    const first = await startServerProcess({ ...env(), LOG_FORMAT: 'json' });
    let key: string;
    try {
      const out = await screenOf(first);
      expect(out).toContain('Nexus is ready.');
      expect(out).toContain(`API          ${first.baseUrl}`);
      expect(out).toContain(`Web app      ${first.baseUrl}/manage/`);
      expect(out).toContain('Walkthrough  README.md');
      expect(out).toContain('Database     PostgreSQL');
      expect(out).toContain('Admin API key for the default project (shown once, store it now):');
      key = out.match(KEY)![0];
      // The logs (stdout, not a terminal) stay JSON lines; the block is written apart from them.
      expect(out).toContain('"msg":"nexus is ready"');
      for (const line of out.split('\n').filter((l) => l.startsWith('{'))) expect(() => JSON.parse(line)).not.toThrow();

      const json = await fetch(`${first.baseUrl}/`);
      expect(json.status).toBe(200);
      expect(json.headers.get('content-type')).toMatch(/^application\/json/);
      const index = (await json.json()) as Record<string, string>;
      expect(index).toMatchObject({ service: 'nexus', webApp: '/manage/', health: '/healthz', ready: '/readyz' });
      expect(JSON.stringify(index)).not.toMatch(KEY);

      const html = await fetch(`${first.baseUrl}/`, { headers: { accept: 'text/html' } });
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html.headers.get('content-security-policy')).toContain("default-src 'none'");
      const body = await html.text();
      expect(body).toContain('href="/manage/"');
      expect(body).toContain('href="/healthz"');
    } finally {
      expect(await first.stop()).toBe(0);
    }
    // The key works, and a second start neither makes nor shows another.
    const second = await startServerProcess(env());
    try {
      expect(await screenOf(second)).toContain('Nexus is ready.');
      expect(second.output()).not.toMatch(KEY);
      const res = await fetch(`${second.baseUrl}/nexus.v1.ProviderService/ListProviders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: '{}',
      });
      expect(res.status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});
