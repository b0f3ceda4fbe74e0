import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLoadConfig } from '../../src/config/config.js';
import { KeyRing } from '../../src/crypto/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { ADMIN_KEY, clients, startTestApp, type TestApp } from '../support/test-app.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('nexus quotas show|set', () => {
  let db: TestDatabase;
  let nexus: TestApp;
  const ring = KeyRing.generate('q1');
  const clock = { now: 0 };
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/nexus.js'), 'quotas', ...args], { cwd: ROOT, env });

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { ...process.env, DATABASE_URL: db.url, NEXUS_ENCRYPTION_KEYS: ring.toSpec(), NEXUS_QUOTA_KEY_RATE_PER_SECOND: '100', NEXUS_QUOTA_KEY_BURST: '400' };
    nexus = await startTestApp({
      backend: 'postgres',
      databaseUrl: db.url,
      keyRing: ring,
      config: { load: { ...loadLoadConfig({}), unauthRatePerSecond: 100_000, unauthBurst: 100_000, quotaKeyRatePerSecond: 100, quotaKeyBurst: 400 } },
      quotaClock: () => clock.now,
    });
  });
  afterAll(async () => {
    await nexus?.close();
    await db?.drop();
  });

  it("sets a project's quotas from the shell; a running server applies them within its cache TTL", { timeout: 300_000 }, async () => {
    const api = clients(nexus.baseUrl, ADMIN_KEY);
    await api.providers.listProviders({});
    const set = await cli('set', '--key-rate', '1', '--key-burst', '2');
    expect(set.stdout).toMatch(/--key-rate\s+1 {2}\(this project's; default 100\)/);
    expect(set.stdout).toMatch(/--key-burst\s+2 {2}\(this project's; default 400\)/);
    expect(set.stdout).toMatch(/--ip-rate\s+\d+ {2}\(installation default\)/);
    // The server read the project's quotas before the change: after 5 s of its clock it reads them again.
    // The first call after that is judged on the old answer and starts the re-read; then the key's
    // bucket holds at most the new burst (2): it is refused by the fourth call at the latest.
    clock.now += 5_000;
    await api.providers.listProviders({});
    await new Promise((r) => setTimeout(r, 200));
    let served = 0;
    for (; served < 3; served++) {
      try {
        await api.providers.listProviders({});
      } catch (err) {
        await expectConnectError(Promise.reject(err), Code.ResourceExhausted, 'RATE_LIMITED');
        break;
      }
    }
    expect(served).toBe(2);

    const cleared = await cli('set', '--key-rate', 'default', '--key-burst', 'default');
    expect(cleared.stdout).toMatch(/--key-rate\s+100 {2}\(installation default\)/);
    expect((await cli('show')).stdout).toBe(cleared.stdout);

    await expect(cli('set', '--key-burst', '0')).rejects.toMatchObject({ stderr: expect.stringContaining('--key-burst: must be a whole number from 1') });
    await expect(cli('set', '--ip-rate', 'lots')).rejects.toMatchObject({ stderr: expect.stringContaining('must be a whole number or "default"') });
    await expect(cli('show', '--project', 'prj_nope')).rejects.toMatchObject({ stderr: expect.stringContaining('project prj_nope does not exist') });
  });
});
