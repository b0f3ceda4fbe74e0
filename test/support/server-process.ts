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

/**
 * Starts `nexus start` as its own OS process, as an operator would run a
 * replica (the compiled CLI: bin/nexus.js runs dist/, which the test global
 * setup builds when stale), and waits until /readyz answers.
 */
export async function startServerProcess(env: Record<string, string>, readyTimeoutMs = 90_000): Promise<ServerProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      BASE_URL: baseUrl,
      LOG_LEVEL: 'info',
      // The loopback authorization servers this file started (outbound-hosts.ts).
      NEXUS_OUTBOUND_ALLOWED_HOSTS: allowedOutboundHosts().join(','),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
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
