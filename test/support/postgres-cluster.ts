import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

/**
 * A PostgreSQL cluster of its own, created from the installed server
 * binaries in a temporary directory, that a test may stop and start again
 * (same data, same port). Never the system cluster other suites share.
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
    const bin = findPostgresBin();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-pg-'));
    // PostgreSQL refuses to run as root; run it as the postgres user then. Spawned with that
    // uid directly (not through runuser), so the shutdown signal reaches postgres itself.
    const asRoot = process.getuid?.() === 0;
    const ids = asRoot ? { uid: id('postgres', '-u'), gid: id('postgres', '-g') } : {};
    if (asRoot) chownSync(dataDir, ids.uid!, ids.gid!);
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
      ['-D', this.dataDir, '-p', String(this.port), '-k', this.dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', `max_connections=${this.maxConnections}`, '-c', 'fsync=off'],
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

function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (existsSync(path.join(bin, 'initdb'))) return bin;
  }
  throw new Error('no PostgreSQL server binaries found: install postgresql or set NEXUS_TEST_DATABASE_URL');
}

function id(user: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, user]).toString().trim());
}
