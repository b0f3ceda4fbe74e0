import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { allowedOutboundHosts } from './outbound-hosts.js';
import { freePort } from './ports.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  baseUrl: string;
  pid: number;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Another way to run the server (the container image): a command and the environment it starts from. */
export interface Launch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * Starts `nexus start` (or `launch`) as its own OS process, as an operator would run a
 * replica (the compiled CLI: bin/nexus.js runs dist/, which the test global
 * setup builds when stale), and waits until /readyz answers. A port taken by another
 * process between choosing it and binding it (a busy machine) is retried on a new port.
 */
export async function startServerProcess(env: Record<string, string>, readyTimeoutMs = 90_000, launch?: Launch): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(await freePort(), env, readyTimeoutMs, launch);
    if (started !== 'port-taken') return started;
    if (attempt === 3) throw new Error('server could not bind a free port in 3 attempts (EADDRINUSE)');
  }
}

async function startOnce(port: number, env: Record<string, string>, readyTimeoutMs: number, launch?: Launch): Promise<ServerProcess | 'port-taken'> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const { command, args, env: baseEnv } = launch ?? { command: process.execPath, args: [path.join(ROOT, 'bin/nexus.js'), 'start'], env: process.env };
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...baseEnv,
      PORT: String(port),
      HOST: '127.0.0.1',
      BASE_URL: baseUrl,
      LOG_LEVEL: 'info',
      // The loopback authorization servers this file started (outbound-hosts.ts).
      NEXUS_OUTBOUND_ALLOWED_HOSTS: allowedOutboundHosts().join(','),
      // Suites here flood one admin key from 127.0.0.1 on purpose; the call quotas are test/security/quotas.test.ts's business.
      NEXUS_QUOTA_KEY_RATE_PER_SECOND: '0',
      NEXUS_QUOTA_IP_RATE_PER_SECOND: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const closed = new Promise((resolve) => child.once('close', resolve)); // its output read to the end
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await closed;
      if (out.includes('EADDRINUSE')) return 'port-taken';
      throw new Error(`server exited early:\n${out}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseUrl,
    pid: child.pid!,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
