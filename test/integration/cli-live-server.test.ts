import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, RETURN_URL, clients, webhookClient } from '../support/test-app.js';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const NEXUS = path.join(ROOT, 'bin/nexus.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Every command line of `nexus`, read from its own help: a command added without a test here fails the suite. */
async function everyCommand(env: NodeJS.ProcessEnv): Promise<string[]> {
  const help = async (...words: string[]) => (await execFileAsync(process.execPath, [NEXUS, ...words, '--help'], { env })).stdout;
  const names = (text: string) =>
    [...text.slice(text.indexOf('Commands:')).matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help' && n !== 'Commands:');
  const out: string[] = [];
  const top = names(await help());
  const subs = await Promise.all(top.map(async (name) => names(await help(name))));
  top.forEach((name, i) => out.push(...(subs[i]!.length ? subs[i]!.map((s) => `${name} ${s}`) : [name])));
  return out.sort();
}

/**
 * Every CLI command, run while a real server runs on the same database, each checked by its
 * effect on that server. On the embedded database the admin commands run inside the server
 * (its control socket, src/control/); on PostgreSQL they run beside it, except keys:rotate
 * with the key ring in the data directory, which the server must adopt.
 */
describe.each(['embedded', 'postgres'] as const)('every CLI command while a server runs (%s)', (backend) => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let server: ServerProcess;
  let env: NodeJS.ProcessEnv;
  const covered = new Set<string>();
  // A webhook receiver on loopback (allow-listed for the server), recording what it is sent.
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let receiver: Server;
  let receiverUrl: string;

  const nexus = async (args: string[], options: { cwd?: string; extraEnv?: NodeJS.ProcessEnv } = {}): Promise<Result> => {
    const began = Date.now();
    const done = await execFileAsync(process.execPath, [NEXUS, ...args], { cwd: options.cwd ?? ROOT, env: { ...env, ...options.extraEnv } }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    return { ...done, ms: Date.now() - began };
  };
  /** Runs one command line and records which command it covered. */
  const cover = (name: string, args: string[], options?: Parameters<typeof nexus>[1]) => {
    covered.add(name);
    return nexus(args, options);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-cli-'));
    if (backend === 'postgres') db = await createTestDatabase();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverHost = `127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    receiverUrl = `http://${receiverHost}/hooks`;
    // The key ring lives in the data directory (no NEXUS_ENCRYPTION_KEYS) on both: keys:rotate
    // rotates it in the running server.
    env = {
      ...process.env,
      NEXUS_DATA_DIR: dataDir,
      NEXUS_ADMIN_API_KEY: ADMIN_KEY,
      NEXUS_ALLOWED_RETURN_URLS: RETURN_URL,
      NEXUS_OUTBOUND_ALLOWED_HOSTS: receiverHost,
      LOG_LEVEL: 'warn',
    };
    delete env.DATABASE_URL;
    delete env.NEXUS_ENCRYPTION_KEYS;
    if (db) env.DATABASE_URL = db.url;
    const serverEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
    server = await startServerProcess(serverEnv, 60_000, { command: process.execPath, args: [NEXUS, 'start'], env: serverEnv });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    receiver?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs each command against the running server, in seconds', { timeout: 240_000 }, async () => {
    const admin = clients(server.baseUrl, ADMIN_KEY);
    const timings: Record<string, number> = {};
    const timed = async (name: string, args: string[], options?: Parameters<typeof nexus>[1]) => {
      const r = await cover(name, args, options);
      timings[name] = r.ms;
      return r;
    };

    const migrated = await timed('migrate', ['migrate']);
    expect(migrated, migrated.stderr).toMatchObject({ code: 0, stdout: 'migrations are up to date\n' });

    // providers apply: a file relative to the CLI's directory, a value from the CLI's environment.
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'nexus-cli-cwd-'));
    writeFileSync(
      path.join(cwd, 'providers.yaml'),
      'providers:\n  - name: vault\n    auth_type: API_KEY\n    api_key: { location: header, name: X-Key }\n    description: ${VAULT_NOTE}\n',
    );
    const applied = await timed('providers apply', ['providers', 'apply', '-f', 'providers.yaml'], { cwd, extraEnv: { VAULT_NOTE: 'from the cli' } });
    expect(applied, applied.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('+ vault (create API_KEY)') });
    expect((await admin.providers.listProviders({})).providers.map((p) => [p.name, p.description])).toEqual([['vault', 'from the cli']]);
    const planned = await timed('providers:apply', ['providers:apply', '-f', path.join(cwd, 'providers.yaml'), '--dry-run'], {
      extraEnv: { VAULT_NOTE: 'changed' },
    });
    expect(planned, planned.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/~ vault[\s\S]*Dry run: nothing applied\./) });
    expect((await admin.providers.listProviders({})).providers.map((p) => p.description)).toEqual(['from the cli']);
    rmSync(cwd, { recursive: true, force: true });

    // API keys: both spellings of create; list; revoke. Each key works at once on the server.
    const created = await timed('api-keys create', ['api-keys', 'create', '--name', 'ops', '--scopes', 'admin']);
    expect(created, created.stderr).toMatchObject({ code: 0 });
    const opsKey = created.stdout.trim().split('\n').at(-1)!;
    const opsId = /^created (\S+) /.exec(created.stdout)![1]!;
    expect((await clients(server.baseUrl, opsKey).providers.listProviders({})).providers).toHaveLength(1);
    const createdOld = await timed('api-keys:create', ['api-keys:create', '--name', 'agent', '--scopes', 'tokens']);
    expect(createdOld, createdOld.stderr).toMatchObject({ code: 0 });
    const agentKey = createdOld.stdout.trim().split('\n').at(-1)!;
    const listed = await timed('api-keys list', ['api-keys', 'list']);
    expect(listed, listed.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`${opsId}\\s+ops\\s`)) });
    expect(listed.stdout).toMatch(/\sagent\s/);
    const revoked = await timed('api-keys revoke', ['api-keys', 'revoke', opsId]);
    expect(revoked, revoked.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`revoked ${opsId}`) });
    await expect(clients(server.baseUrl, opsKey).providers.listProviders({})).rejects.toThrow(/unauthenticated|revoked|invalid/i);

    // api-keys rotate: the new key works on the server at once; with no overlap the old one is refused.
    const spare = await nexus(['api-keys', 'create', '--name', 'spare', '--scopes', 'admin']);
    const spareKey = spare.stdout.trim().split('\n').at(-1)!;
    const spareId = /^created (\S+) /.exec(spare.stdout)![1]!;
    const rotatedKey = await timed('api-keys rotate', ['api-keys', 'rotate', spareId, '--overlap', '0s']);
    expect(rotatedKey, rotatedKey.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`to replace ${spareId}`) });
    const newSpareKey = rotatedKey.stdout.trim().split('\n').at(-1)!;
    expect((await clients(server.baseUrl, newSpareKey).providers.listProviders({})).providers).toHaveLength(1);
    await expect
      .poll(
        () =>
          clients(server.baseUrl, spareKey)
            .providers.listProviders({})
            .then(
              () => 'accepted',
              (e: unknown) => String(e),
            ),
        { timeout: 15_000 },
      )
      .toMatch(/unauthenticated/i);

    // projects: create, get, update, list, delete; each seen by the server (a key of the new
    // project lists its own empty provider set, and is refused once the project is deleted).
    const madeProject = await timed('projects create', ['projects', 'create', 'acme', '--display-name', 'Acme']);
    expect(madeProject, madeProject.stderr).toMatchObject({ code: 0 });
    const projectId = /^created project (\S+)/.exec(madeProject.stdout)![1]!;
    const got = await timed('projects get', ['projects', 'get', projectId]);
    expect(got, got.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/display name: Acme\n/) });
    const updated = await timed('projects update', ['projects', 'update', projectId, '--display-name', 'Acme Co']);
    expect(updated, updated.stderr).toMatchObject({ code: 0 });
    const projects = await timed('projects list', ['projects', 'list']);
    expect(projects, projects.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`${projectId}\\s+acme\\s+Acme Co\\s`)) });
    const acme = await nexus(['api-keys', 'create', '--project', projectId, '--name', 'acme-admin', '--scopes', 'admin']);
    const acmeKey = acme.stdout.trim().split('\n').at(-1)!;
    expect((await clients(server.baseUrl, acmeKey).providers.listProviders({})).providers).toEqual([]);
    const deleted = await timed('projects delete', ['projects', 'delete', projectId]);
    expect(deleted, deleted.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`deleted project ${projectId}`) });
    await expect
      .poll(
        () =>
          clients(server.baseUrl, acmeKey)
            .providers.listProviders({})
            .then(
              () => 'accepted',
              (e: unknown) => String(e),
            ),
        { timeout: 15_000 },
      )
      .toMatch(/unauthenticated|not.found|permission/i);

    // A connection with a sealed credential, to see the key commands' effect through GetToken.
    const made = await admin.connections.createConnection({ workspaceId: 'ws-cli', provider: { case: 'providerName', value: 'vault' }, returnUrl: RETURN_URL });
    await clients(server.baseUrl).connections.submitCredentials({ state: made.state, credentials: { api_key: 'sk_cli_secret_value' } });
    const connectionId = made.connection!.id;
    const credential = async () => {
      const token = await clients(server.baseUrl, agentKey).tokens.getToken({ connectionId });
      const c = token.credential?.credentials;
      return c?.case === 'apiKey' ? c.value.apiKey : undefined;
    };
    expect(await credential()).toBe('sk_cli_secret_value');

    // keys:rotate: a new primary in the data directory's ring, adopted by the running server,
    // every secret re-sealed under it, and the server still opens them (and seals new ones under it).
    const ringBefore = readFileSync(path.join(dataDir, 'encryption-keys'), 'utf8').trim();
    const rotated = await timed('keys:rotate', ['keys:rotate']);
    expect(rotated, rotated.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^new primary key (\S+); re-sealed 1 connection\(s\)/) });
    const newPrimary = /^new primary key (\S+);/.exec(rotated.stdout)![1]!;
    const ringAfter = readFileSync(path.join(dataDir, 'encryption-keys'), 'utf8').trim();
    expect(ringAfter.split(',')[0]!.split(':')[0]).toBe(newPrimary);
    expect(ringAfter.endsWith(`,${ringBefore}`)).toBe(true);
    expect(await credential()).toBe('sk_cli_secret_value');
    // A credential stored after the rotation is sealed by the server under the new key.
    const later = await admin.connections.createConnection({
      workspaceId: 'ws-cli-2',
      provider: { case: 'providerName', value: 'vault' },
      returnUrl: RETURN_URL,
    });
    await clients(server.baseUrl).connections.submitCredentials({ state: later.state, credentials: { api_key: 'sk_cli_after_rotation' } });
    // On PostgreSQL the rows are read directly; the embedded database is the server's alone, and
    // keys:reseal below finding nothing left to re-seal shows the same there.
    if (db) {
      expect(await sealedKeyId(db, connectionId)).toBe(newPrimary);
      expect(await sealedKeyId(db, later.connection!.id)).toBe(newPrimary);
    }

    // keys:reseal: nothing left under an old key, and the server reads the same ring.
    const resealed = await timed('keys:reseal', ['keys:reseal']);
    expect(resealed, resealed.stderr).toMatchObject({
      code: 0,
      stdout: `under ${newPrimary}: re-sealed 0 connection(s), 0 provider secret(s), 0 signing key(s), 0 webhook secret(s)\n`,
    });

    // keys:rotate-signing: run in the embedded server, its JWKS publishes the new key at once. On
    // PostgreSQL every replica reloads within a minute: the new key is the one unretired row.
    const signing = await timed('keys:rotate-signing', ['keys:rotate-signing']);
    expect(signing, signing.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^new signing key (sk_\S+);/) });
    const kid = /^new signing key (sk_\S+);/.exec(signing.stdout)![1]!;
    if (db) expect(await query(db, 'SELECT id FROM signing_keys WHERE retired_at IS NULL')).toEqual([{ id: kid }]);
    else expect(((await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toContain(kid);

    // audit verify / export: the server audited the RPCs above (a batched writer: poll until
    // they are written); the CLI reads the same chain and verifies it.
    covered.add('audit export');
    let exported: Result | undefined;
    await expect
      .poll(
        async () => {
          exported = await nexus(['audit', 'export']);
          return exported.stdout;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toContain('"connection.create"');
    timings['audit export'] = exported!.ms;
    expect(exported!.code).toBe(0);
    const events = exported!.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; action: string });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const verified = await timed('audit verify', ['audit', 'verify']);
    expect(verified, verified.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK prj_default: \d+ event\(s\) verified/m) });

    // quotas set / show: the project's own quota, which the running server applies within 5 s
    // (the agent key is throttled), then the installation's default again.
    const limited = await timed('quotas set', ['quotas', 'set', '--key-rate', '1', '--key-burst', '2']);
    expect(limited, limited.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/--key-rate\s+1\s+\(this project's/) });
    const shown = await timed('quotas show', ['quotas', 'show']);
    expect(shown, shown.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/--key-burst\s+2\s+\(this project's/) });
    const burst = async () => {
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => credential()));
      return outcomes.some((o) => o.status === 'rejected' && /resource_exhausted/i.test(String(o.reason)));
    };
    await expect.poll(burst, { timeout: 15_000, interval: 1_000 }).toBe(true);
    const restored = await nexus(['quotas', 'set', '--key-rate', 'default', '--key-burst', 'default']);
    expect(restored, restored.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/--key-rate\s+\d+\s+\(installation default\)/) });
    await expect.poll(async () => !(await burst()), { timeout: 15_000, interval: 1_000 }).toBe(true);

    // webhooks: an endpoint made, read, changed, rotated and deleted by the CLI is the server's;
    // the server's delivery worker signs with the secret the CLI printed (verified here by the
    // independent standardwebhooks package), and a delivery the CLI lists is redelivered.
    const wh = webhookClient(server.baseUrl, ADMIN_KEY);
    const hook = await timed('webhooks create', ['webhooks', 'create', '--url', receiverUrl, '--events', 'connection.created', '--description', 'ops']);
    expect(hook, hook.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created whep_\S+ for /) });
    const hookId = /^created (\S+) /.exec(hook.stdout)![1]!;
    const hookSecret = hook.stdout.trim().split('\n').at(-1)!;
    expect(hookSecret).toMatch(/^whsec_/);
    expect((await wh.getWebhookEndpoint({ endpointId: hookId })).endpoint).toMatchObject({
      url: receiverUrl,
      description: 'ops',
      eventTypes: ['connection.created'],
    });
    const hooks = await timed('webhooks list', ['webhooks', 'list']);
    expect(hooks, hooks.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`${hookId}\\s+http://127\\.0\\.0\\.1`)) });
    const hookShown = await timed('webhooks get', ['webhooks', 'get', hookId]);
    expect(hookShown, hookShown.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`url: ${receiverUrl}`) });
    for (const out of [hooks.stdout, hookShown.stdout]) expect(out).not.toContain(hookSecret.slice('whsec_'.length, 24));
    const hookUpdated = await timed('webhooks update', ['webhooks', 'update', hookId, '--description', 'from the cli']);
    expect(hookUpdated, hookUpdated.stderr).toMatchObject({ code: 0 });
    expect((await wh.getWebhookEndpoint({ endpointId: hookId })).endpoint!.description).toBe('from the cli');

    const hooked = await admin.connections.createConnection({
      workspaceId: 'ws-hook',
      provider: { case: 'providerName', value: 'vault' },
      returnUrl: RETURN_URL,
    });
    await expect.poll(() => received.some((r) => r.body.includes(hooked.connection!.id)), { timeout: 20_000, interval: 200 }).toBe(true);
    const message = received.find((r) => r.body.includes(hooked.connection!.id))!;
    expect(new Webhook(hookSecret).verify(message.body, message.headers as Record<string, string>)).toMatchObject({ type: 'connection.created' });
    let listedDeliveries: Result | undefined;
    await expect
      .poll(
        async () => {
          listedDeliveries = await nexus(['webhooks', 'deliveries', hookId, '--status', 'succeeded']);
          return listedDeliveries.stdout;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toContain(String(message.headers['webhook-id']));
    covered.add('webhooks deliveries');
    timings['webhooks deliveries'] = listedDeliveries!.ms;
    const deliveryId = /^(\d+)\s+connection\.created\s/m.exec(listedDeliveries!.stdout)![1]!;
    const again = await timed('webhooks redeliver', ['webhooks', 'redeliver', deliveryId]);
    expect(again, again.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`to send delivery ${deliveryId} again`) });
    await expect.poll(() => received.filter((r) => r.headers['webhook-id'] === message.headers['webhook-id']).length, { timeout: 20_000 }).toBe(2);

    // rotate-secret: the next message verifies with the new secret and, during the overlap, the old.
    const rotatedHook = await timed('webhooks rotate-secret', ['webhooks', 'rotate-secret', hookId, '--overlap', '1h']);
    expect(rotatedHook, rotatedHook.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('the previous secret also signs until') });
    const newHookSecret = rotatedHook.stdout.trim().split('\n').at(-1)!;
    const hooked2 = await admin.connections.createConnection({
      workspaceId: 'ws-hook-2',
      provider: { case: 'providerName', value: 'vault' },
      returnUrl: RETURN_URL,
    });
    await expect.poll(() => received.some((r) => r.body.includes(hooked2.connection!.id)), { timeout: 20_000, interval: 200 }).toBe(true);
    const message2 = received.find((r) => r.body.includes(hooked2.connection!.id))!;
    for (const secret of [hookSecret, newHookSecret])
      expect(() => new Webhook(secret).verify(message2.body, message2.headers as Record<string, string>)).not.toThrow();

    const hookDeleted = await timed('webhooks delete', ['webhooks', 'delete', hookId]);
    expect(hookDeleted, hookDeleted.stderr).toMatchObject({ code: 0, stdout: `deleted ${hookId} and its deliveries\n` });
    await expect(wh.getWebhookEndpoint({ endpointId: hookId })).rejects.toThrow(/not found/i);

    // catalog check needs no database: it runs in this process whatever runs beside it.
    const checked = await timed('catalog check', ['catalog', 'check', 'sendgrid']);
    expect(checked, checked.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('0 ok, 0 changed, 0 unreachable, 1 skipped') });

    // The server commands: on PostgreSQL another replica and a separate refresh worker start and
    // serve; on the embedded database (one process's) each is refused at once, saying why and what to do.
    covered.add('start');
    covered.add('worker');
    if (backend === 'embedded') {
      for (const name of ['start', 'worker']) {
        const refused = await timed(name, [name], { extraEnv: { PORT: '0' } });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`runs on the embedded database in ${dataDir}, which only one process can open`);
        expect(refused.stderr).toContain(name === 'worker' ? 'it runs the background refresh worker itself' : 'use PostgreSQL (DATABASE_URL)');
        expect(refused.stderr).not.toContain('    at ');
      }
    } else {
      const serverEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
      for (const name of ['start', 'worker']) {
        const began = Date.now();
        const other = await startServerProcess(serverEnv, 30_000, { command: process.execPath, args: [NEXUS, name], env: serverEnv });
        timings[name] = Date.now() - began;
        try {
          if (name === 'start')
            expect(await clients(other.baseUrl, agentKey).tokens.getToken({ connectionId })).toMatchObject({ credential: { connectionId } });
          else expect((await fetch(`${other.baseUrl}/metrics`)).status).toBe(200);
        } finally {
          expect(await other.stop()).toBe(0);
        }
      }
    }
    // The server we started on is unaffected by all of it.
    expect(await credential()).toBe('sk_cli_secret_value');
    expect(server.output()).not.toMatch(/ECONNRESET|"level":50/);

    if (backend === 'postgres') {
      // `start --workers 2`: each worker holds its own copy of the ring, so keys:rotate is refused
      // by the cluster's primary, saying what to do, and nothing is rotated.
      expect(await server.stop()).toBe(0);
      const serverEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const workers = await startServerProcess(serverEnv, 60_000, { command: process.execPath, args: [NEXUS, 'start', '--workers', '2'], env: serverEnv });
      try {
        const ring = readFileSync(path.join(dataDir, 'encryption-keys'), 'utf8');
        const refused = await nexus(['keys:rotate']);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('2 workers run on this data directory, each with its own copy of the key ring');
        expect(refused.stderr).toContain('Stop the server, run nexus keys:rotate, start it again');
        expect(readFileSync(path.join(dataDir, 'encryption-keys'), 'utf8')).toBe(ring);
        expect(await clients(workers.baseUrl, agentKey).tokens.getToken({ connectionId })).toMatchObject({ credential: { connectionId } });
      } finally {
        expect(await workers.stop()).toBe(0);
      }
    }

    console.log(`${backend}: CLI timings (ms) ${JSON.stringify(timings)}`);
    // About a second each on a quiet machine (bench/RESULTS.md); the bound leaves room for a
    // machine shared with other suites, and still fails a command that waits on a timeout.
    for (const [name, ms] of Object.entries(timings)) expect(ms, name).toBeLessThan(30_000);
  });

  it('covered every command the CLI has', { timeout: 120_000 }, async () => {
    expect([...covered].sort()).toEqual(await everyCommand(env));
  });
});

async function query(db: TestDatabase, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** The key id a connection's credential is sealed under. */
async function sealedKeyId(db: TestDatabase, id: string): Promise<string> {
  const [row] = await query(db, 'SELECT credentials_sealed FROM connections WHERE id = $1', [id]);
  return keyIdOf(row!.credentials_sealed as string);
}
