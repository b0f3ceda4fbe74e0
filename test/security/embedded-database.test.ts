import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secureDataDir, UnsafeDataDirError } from '../../src/storage/data-dir.js';
import { freePort } from '../support/ports.js';
import { clients } from '../support/test-app.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const NEXUS = path.join(ROOT, 'bin/nexus.js');
const isRoot = process.getuid?.() === 0;

/** The listening sockets a process holds: its fds' socket inodes matched against the kernel's tables. */
function listeningSockets(pid: number): { tcpPorts: number[]; unixPaths: string[] } {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const rows = (file: string) =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/));
  const tcpPorts = ['/proc/net/tcp', '/proc/net/tcp6']
    .flatMap(rows)
    .filter((f) => f[3] === '0A' && inodes.has(f[9]!)) // 0A: LISTEN
    .map((f) => parseInt(f[1]!.split(':')[1]!, 16));
  const unixPaths = rows('/proc/net/unix')
    .filter((f) => (parseInt(f[3]!, 16) & 0x10000) !== 0 && inodes.has(f[6]!)) // __SO_ACCEPTCON: listening
    .map((f) => f[7] ?? '(unnamed)');
  return { tcpPorts, unixPaths };
}

/** Every entry under `dir` with its permission bits, symlinks left out. */
function modes(dir: string): Map<string, { mode: number; kind: string }> {
  const out = new Map<string, { mode: number; kind: string }>();
  const walk = (p: string) => {
    const s = lstatSync(p);
    out.set(p, { mode: s.mode & 0o777, kind: s.isDirectory() ? 'dir' : s.isSocket() ? 'socket' : 'file' });
    if (s.isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name));
  };
  walk(dir);
  return out;
}

function expectPrivate(dir: string): void {
  const loose = [...modes(dir)].filter(([, { mode, kind }]) => mode !== (kind === 'dir' ? 0o700 : 0o600));
  expect(loose.map(([p, { mode }]) => `${p} ${mode.toString(8)}`)).toEqual([]);
}

/** Tries to open a PostgreSQL session; true only if a query ran. */
async function getsSession(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('the embedded database of a running server', () => {
  let dataDir: string;
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let port: number;
  let baseUrl: string;
  let out = '';
  const seen = { tcpPorts: new Set<number>(), unixPaths: new Set<string>(), sessions: 0, probes: 0 };
  let env: NodeJS.ProcessEnv;
  let early: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
  const nexus = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
    run(process.execPath, [NEXUS, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-embedded-'));
    port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = { ...process.env, NEXUS_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', BASE_URL: baseUrl, LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    delete env.NEXUS_ENCRYPTION_KEYS;
    delete env.NEXUS_ADMIN_API_KEY;
    child = spawn(process.execPath, [NEXUS, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (out += c));
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    // From the moment the process exists until it serves: every listener it opens is probed as an attacker would.
    const deadline = Date.now() + 150_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
      try {
        const sockets = listeningSockets(child.pid!);
        sockets.unixPaths.forEach((p) => seen.unixPaths.add(p));
        for (const p of sockets.tcpPorts) {
          seen.tcpPorts.add(p);
          if (p !== port) {
            seen.probes++;
            if (await getsSession(p)) seen.sessions++;
          }
        }
      } catch {
        // the process is between states
      }
      // A command run while the server is still starting waits for it instead of finding the database locked.
      if (!early && existsSync(path.join(dataDir, 'pgdata.lock'))) early = nexus(['api-keys', 'list']);
      if ((await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.ok) break;
      if (Date.now() > deadline) throw new Error(`server did not become ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('listens on nothing but its HTTP port and its private control socket, during start-up and after', () => {
    const controlSocket = path.join(dataDir, 'control', 'nexus.sock');
    const now = listeningSockets(child.pid!);
    expect(now.tcpPorts).toEqual([port]);
    expect(now.unixPaths).toEqual([controlSocket]);
    expect([...seen.tcpPorts].filter((p) => p !== port)).toEqual([]);
    expect([...seen.unixPaths].filter((p) => p !== controlSocket)).toEqual([]);
    expect(seen.sessions).toBe(0);
    expect(out).not.toContain('ECONNRESET');
  });

  it('runs a command started while the server was starting, once the server is up', { timeout: 90_000 }, async () => {
    expect(early).toBeDefined();
    const result = await early!;
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ID\s+NAME\s+KEY/) });
    expect(result.stderr).not.toContain('in use');
    expect(result.stderr).toContain('waiting for the server starting on'); // it did start before the socket
  });

  it('keeps the data directory private: directories 0700, files and the socket 0600', () => {
    expectPrivate(dataDir);
  });

  it('runs admin commands through the running server; their output and exit codes come back', { timeout: 240_000 }, async () => {
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'nexus-cwd-'));
    try {
      // A providers file named relative to the CLI's directory, with a secret from the CLI's environment.
      writeFileSync(
        path.join(elsewhere, 'providers.yaml'),
        'providers:\n  - name: vault\n    auth_type: API_KEY\n    api_key: { location: header, name: X-Key }\n    description: ${VAULT_NOTE}\n',
      );
      const keysBefore = readFileSync(path.join(dataDir, 'encryption-keys'), 'utf8');
      const [created, migrated, resealed, signing, rotated, applied] = await Promise.all([
        nexus(['api-keys:create', '--name', 'ops', '--scopes', 'admin']),
        nexus(['migrate']),
        nexus(['keys:reseal']),
        nexus(['keys:rotate-signing']),
        nexus(['keys:rotate']),
        nexus(['providers', 'apply', '-f', 'providers.yaml'], { cwd: elsewhere, env: { ...env, VAULT_NOTE: 'from the cli' } }),
      ]);
      expect(created, created.stderr).toMatchObject({ code: 0 });
      expect(migrated).toMatchObject({ code: 0, stdout: 'migrations are up to date\n' });
      expect(resealed).toMatchObject({ code: 0, stdout: expect.stringMatching(/^under (dev1|k1): re-sealed 0 connection/) }); // before or after keys:rotate
      expect(signing).toMatchObject({ code: 0, stdout: expect.stringMatching(/^new signing key sk_/) });
      expect(applied, applied.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('+ vault (create API_KEY)') });
      // keys:rotate runs in the server, which adopts the new ring: the file gains a new primary, the old key stays.
      expect(rotated, rotated.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^new primary key k1; /) });
      const keysAfter = readFileSync(path.join(dataDir, 'encryption-keys'), 'utf8');
      expect(keysAfter.startsWith('k1:') && keysAfter.endsWith(`,${keysBefore}`)).toBe(true);

      // The key was made in the server's own database: it works at once, with its scope.
      const key = created.stdout.trim().split('\n').at(-1)!;
      const { providers } = await clients(baseUrl, key).providers.listProviders({});
      expect(providers.map((p) => [p.name, p.description])).toEqual([['vault', 'from the cli']]);

      // Listing and revoking run in the server too: the revoked key is refused at once.
      const id = /^created (\S+) /.exec(created.stdout)![1]!;
      const listed = await nexus(['api-keys', 'list']);
      expect(listed, listed.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`${id}\\s+ops\\s`)) });
      const revoked = await nexus(['api-keys', 'revoke', id]);
      expect(revoked, revoked.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`revoked ${id}`) });
      await expect(clients(baseUrl, key).providers.listProviders({})).rejects.toThrow(/unauthenticated|revoked|invalid/i);

      const failed = await nexus(['providers', 'apply', '-f', 'missing.yaml'], { cwd: elsewhere });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(path.join(elsewhere, 'missing.yaml'));
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it.runIf(isRoot)('refuses another local user at the control socket, even if the directories were opened up', { timeout: 120_000 }, async () => {
    const socketPath = path.join(dataDir, 'control', 'nexus.sock');
    const asNobody = (args: string[]) =>
      run('runuser', ['-u', 'nobody', '--', process.execPath, ...args], { cwd: '/', env: { ...env, HOME: '/nonexistent' } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const connect = [
      '-e',
      `require('net').connect(${JSON.stringify(socketPath)}).on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(3)})`,
    ];
    const shut = await asNobody(connect);
    expect(shut).toMatchObject({ code: 3, stdout: 'EACCES\n' });
    // The CLI as that user: a clear refusal, and no key is made.
    const cli = await asNobody([NEXUS, 'api-keys:create', '--name', 'intruder', '--scopes', 'admin']);
    expect(cli.code).toBe(1);
    expect(cli.stdout).not.toMatch(/nxs_/);
    // The socket's own mode (0600) still holds if someone loosens the directories above it.
    chmodSync(dataDir, 0o711);
    chmodSync(path.join(dataDir, 'control'), 0o711);
    try {
      expect(await asNobody(connect)).toMatchObject({ code: 3, stdout: 'EACCES\n' });
    } finally {
      chmodSync(dataDir, 0o700);
      chmodSync(path.join(dataDir, 'control'), 0o700);
    }
  });

  it('answers a malformed request with exit 2, drops an oversized one, and keeps serving', { timeout: 60_000 }, async () => {
    const socketPath = path.join(dataDir, 'control', 'nexus.sock');
    const exchange = (payload: string) =>
      new Promise<{ reply: string; closed: boolean }>((resolve) => {
        let reply = '';
        const socket = net.connect(socketPath, () => socket.write(payload));
        socket.on('data', (c) => (reply += c));
        socket.on('error', () => {});
        socket.on('close', () => resolve({ reply, closed: true }));
      });
    expect(await exchange('{"argv": "migrate"}\n')).toEqual({ reply: '{"err":"nexus: malformed control request\\n"}\n{"exit":2}\n', closed: true });
    expect(await exchange('x'.repeat(70 * 1024))).toEqual({ reply: '', closed: true });
    const after = await nexus(['migrate']);
    expect(after).toMatchObject({ code: 0, stdout: 'migrations are up to date\n' });
  });

  it('stops cleanly, leaving every file private and no socket behind', { timeout: 60_000 }, async () => {
    child.kill('SIGTERM');
    expect(await exited, out).toBe(0);
    expect(readdirSync(path.join(dataDir, 'control'))).toEqual([]);
    expectPrivate(dataDir);
    // With no server, the CLI opens the database itself again.
    const alone = await nexus(['migrate']);
    expect(alone, alone.stderr).toMatchObject({ code: 0, stdout: 'migrations are up to date\n' });
  });
});

describe('the data directory', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'nexus-datadir-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('tightens one made by an older version (0755 directories, 0666 files) to 0700 and 0600', () => {
    const dir = path.join(root, 'legacy');
    mkdirSync(path.join(dir, 'pgdata', 'base'), { recursive: true, mode: 0o755 });
    for (const d of [dir, path.join(dir, 'pgdata'), path.join(dir, 'pgdata', 'base')]) chmodSync(d, 0o755);
    for (const f of ['pgdata/postgresql.conf', 'pgdata/base/1234', 'encryption-keys']) {
      writeFileSync(path.join(dir, f), 'x');
      chmodSync(path.join(dir, f), 0o666);
    }
    symlinkSync('/etc/passwd', path.join(dir, 'pgdata', 'link')); // never followed
    const before = lstatSync('/etc/passwd').mode;
    expect(secureDataDir(dir)).toBe(6);
    expectPrivate(path.join(dir, 'pgdata', 'base'));
    expect(modes(dir).get(path.join(dir, 'pgdata', 'postgresql.conf'))!.mode).toBe(0o600);
    expect(lstatSync('/etc/passwd').mode).toBe(before);
    expect(secureDataDir(dir)).toBe(0);
  });

  it('creates a missing one 0700', () => {
    const dir = path.join(root, 'new', 'nested');
    secureDataDir(dir);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
  });

  it.each([
    ['the data directory', '.'],
    ['a directory inside it', 'pgdata'],
  ])('refuses one where other users can write to %s, naming the exact fix, and changes nothing', (_what, sub) => {
    const dir = path.join(root, `open-${sub === '.' ? 'top' : 'sub'}`);
    const target = sub === '.' ? dir : path.join(dir, sub);
    mkdirSync(path.join(dir, 'pgdata'), { recursive: true });
    writeFileSync(path.join(dir, 'pgdata', 'PG_VERSION'), '17');
    chmodSync(path.join(dir, 'pgdata', 'PG_VERSION'), 0o666);
    chmodSync(target, 0o777);
    let error: unknown;
    try {
      secureDataDir(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnsafeDataDirError);
    expect((error as Error).message).toContain(`${target} is writable by other users (mode 0777)`);
    expect((error as Error).message).toContain(`run: chmod -R go-rwx ${dir}`);
    expect(lstatSync(path.join(dir, 'pgdata', 'PG_VERSION')).mode & 0o777).toBe(0o666);
  });

  it.runIf(isRoot)('refuses one owned by another user', () => {
    const dir = path.join(root, 'foreign');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(path.join(dir, 'encryption-keys'), 'x', { mode: 0o600 });
    chownSync(path.join(dir, 'encryption-keys'), 65534, 65534);
    expect(() => secureDataDir(dir)).toThrow(/encryption-keys is owned by uid 65534, not by the user running Nexus \(uid 0\)/);
  });

  it('nexus refuses to start on a world-writable data directory, before reading or writing a key ring', { timeout: 60_000 }, async () => {
    const dir = path.join(root, 'world');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const env: NodeJS.ProcessEnv = { ...process.env, NEXUS_DATA_DIR: dir };
    delete env.DATABASE_URL;
    delete env.NEXUS_ENCRYPTION_KEYS;
    const result = await run(process.execPath, [NEXUS, 'migrate'], { cwd: ROOT, env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`refusing the data directory ${dir}: ${dir} is writable by other users (mode 0777)`);
    expect(result.stderr).toContain(`run: chmod -R go-rwx ${dir}`);
    expect(readdirSync(dir)).toEqual([]);
  });
});
