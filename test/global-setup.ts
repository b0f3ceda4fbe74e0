import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildWebApp } from '../scripts/build-web.js';
import { freePort } from './support/ports.js';

/**
 * Provides `databaseUrl`: a real PostgreSQL for the integration suites.
 * CI starts the system cluster and sets NEXUS_TEST_DATABASE_URL; without it
 * (a developer's machine) a throwaway cluster is created from the installed
 * PostgreSQL binaries and removed afterwards, so `npm test` needs no setup.
 * Also builds the web app when web/dist is missing or stale.
 */
let child: ChildProcess | undefined;
let dataDir: string | undefined;

export default async function setup(project: TestProject) {
  // The server serves the Manage Connections web app from web/dist (browser tests drive it).
  await buildWebApp({ ifNeeded: true });
  let url = process.env.NEXUS_TEST_DATABASE_URL;
  if (!url) url = await startThrowawayCluster();
  project.provide('databaseUrl', url);
  return async () => {
    if (child && child.exitCode === null) {
      // SIGINT is PostgreSQL's fast shutdown; SIGKILL if it has not gone in 10 s.
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGINT');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
}

async function startThrowawayCluster(): Promise<string> {
  const bin = findPostgresBin();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-pg-'));
  // PostgreSQL refuses to run as root; run it as the postgres user then. Spawned with that
  // uid directly (not through runuser), so the shutdown signal reaches postgres itself.
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: uid('postgres', '-u'), gid: uid('postgres', '-g') } : {};
  if (asRoot) chownSync(dataDir, ids.uid!, ids.gid!);
  execFileSync(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'nexus', '--auth=trust', '-E', 'UTF8'], {
    stdio: 'ignore',
    cwd: dataDir,
    ...ids,
  });
  const port = await freePort();
  child = spawn(
    path.join(bin, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'],
    { stdio: 'ignore', cwd: dataDir, ...ids },
  );
  const url = `postgres://nexus@127.0.0.1:${port}/postgres`;
  const pg = await import('pg');
  for (let i = 0; i < 100; i++) {
    const client = new pg.default.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return url;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('throwaway PostgreSQL did not start; set NEXUS_TEST_DATABASE_URL to a server you run');
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

function uid(user: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, user]).toString().trim());
}


declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
