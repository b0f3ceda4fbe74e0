import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/ports.js';
import { BENCH_ADMIN_KEY, BENCH_KEY_RING } from './dataset.js';

export interface BenchServer {
  baseUrl: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts bench-server.ts as its own process (own event loop, own core when
 * one is free) and waits for /readyz. NEXUS_BENCH_CPU_PROF=<dir> writes a
 * V8 CPU profile of the server there on exit (`node --cpu-prof`).
 */
export async function startBenchServer(
  databaseUrl: string,
  options: { script?: string; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<BenchServer> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const profDir = process.env.NEXUS_BENCH_CPU_PROF;
  const script = options.script ?? path.join(import.meta.dirname, 'bench-server.ts');
  const args = [...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), ...(options.nodeArgs ?? []), '--import', 'tsx', script];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      BASE_URL: baseUrl,
      DATABASE_URL: databaseUrl,
      NEXUS_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'nexus-bench-')),
      NEXUS_ENCRYPTION_KEYS: BENCH_KEY_RING,
      NEXUS_ADMIN_API_KEY: BENCH_ADMIN_KEY,
      NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
      // The server logs as it would in production (info) unless told otherwise; to /dev/null,
      // so the cost of writing log lines is measured but not a terminal's.
      LOG_LEVEL: process.env.NEXUS_BENCH_LOG_LEVEL ?? 'info',
      // One key and one address make every call: quotas stay on (their cost is measured) but so high they never refuse.
      NEXUS_QUOTA_KEY_RATE_PER_SECOND: '1000000',
      NEXUS_QUOTA_KEY_BURST: '10000000',
      NEXUS_QUOTA_IP_RATE_PER_SECOND: '1000000',
      NEXUS_QUOTA_IP_BURST: '10000000',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bench server exited early:\n${err}`);
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bench server did not become ready:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseUrl,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
