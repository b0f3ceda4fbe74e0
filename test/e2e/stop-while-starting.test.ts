import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

// A cluster primary may stop a worker it has just forked (SIGTERM during a
// deploy or a shutdown); the worker must end cleanly (exit 0), not die by the
// signal, or the primary reports a failed shutdown.
describe('nexus start: a stop asked for while starting', () => {
  it('finishes starting, closes and exits 0', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nexus-stop-early-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, NEXUS_DATA_DIR: dataDir, PORT: String(await freePort()), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
      // The embedded database and a generated key ring: the key-ring warning is logged before the
      // app starts (PGlite then takes seconds to boot), which tells the test the process is starting.
      delete env.DATABASE_URL;
      delete env.NEXUS_ENCRYPTION_KEYS;
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      await new Promise<void>((resolve, reject) => {
        const onData = (c: Buffer) => {
          out += c;
          if (out.includes('NEXUS_ENCRYPTION_KEYS is not set')) resolve();
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', (c: Buffer) => (out += c));
        void exited.then(() => reject(new Error(`exited before starting:\n${out}`)));
      });
      expect(out).not.toContain('nexus is ready');
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      expect({ code, signal }, out).toEqual({ code: 0, signal: null });
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string });
      expect(lines.some((l) => l.msg === 'shutting down')).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
