// The deployable artifact: the container image (Containerfile, scripts/build-image.sh), built
// here with buildah and run from its own root filesystem, read-only, as its non-root user,
// on the embedded database and on PostgreSQL; it answers /readyz, its HEALTHCHECK passes, and
// an API client creates a provider and a static-credential connection and gets its token.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StrategyType } from '../../gen/ts/nexus/v1/token_pb.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { ADMIN_KEY, RETURN_URL, clients } from '../support/test-app.js';
import { ImageContainer, buildImage, inspectImage, type ImageConfig } from './image.js';

const TAG = 'localhost/nexus:test';

let config: ImageConfig;
/** One working container for every run below (each unpacks the whole image: vfs copies it). */
let container: ImageContainer;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the artifact tier builds and enters the image as root (buildah, mount, chroot)');
  await buildImage(TAG);
  config = await inspectImage(TAG);
  container = await ImageContainer.create(TAG, config);
});

afterAll(async () => {
  await container?.remove();
});

describe('the image', () => {
  it('is small: Node, the C libraries it links and the server, nothing else', () => {
    expect(container.size()).toBeLessThan(300 * 1024 * 1024);
  });

  it('runs as a non-root user, keeps its data in the /data volume and has a health check', () => {
    expect(config.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(config.volumes).toEqual(['/data']);
    expect(config.env).toMatchObject({ NODE_ENV: 'production', NEXUS_DATA_DIR: '/data' });
    expect(config.entrypoint).toEqual(['/usr/local/bin/node', '--max-semi-space-size=2', '--heap-growing-percent=30', '/app/bin/nexus.js']);
    expect(config.cmd).toEqual(['start']);
    expect(config.healthcheck[0]).toBe('CMD');
    expect(config.healthcheck.join(' ')).toContain('/readyz');
  });
});

describe('the compile cache in the image', () => {
  it('is filed for its Node, flags and user: the CLI compiles no module afresh', () => {
    const { command, args, env } = container.launch(container.dataDir(), [...config.entrypoint, '--help']);
    const run = spawnSync(command, args, { env: { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }, encoding: 'utf8' });
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    const lines = run.stderr.split('\n');
    const misses = lines.filter((l) => /\[compile cache\] V8 code cache for .* was (not initialized|rejected)/.test(l));
    expect(misses, misses.slice(0, 5).join('\n')).toEqual([]);
    expect(lines.filter((l) => /\[compile cache\] V8 code cache for .* was accepted/.test(l)).length).toBeGreaterThan(500);
  });
});

describe.each(['embedded', 'postgres'] as const)('the image on the %s database', (backend) => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = container.dataDir();
    db = backend === 'postgres' ? await createTestDatabase() : undefined;
    server = await startServerProcess(
      {
        NEXUS_ADMIN_API_KEY: ADMIN_KEY,
        NEXUS_ENCRYPTION_KEYS: KeyRing.generate('img').toSpec(),
        NEXUS_ALLOWED_RETURN_URLS: RETURN_URL,
        NEXUS_REFRESH_WORKER: 'false',
        ...(db ? { DATABASE_URL: db.url } : {}),
      },
      120_000,
      container.launch(dataDir),
    );
  });

  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    await db?.drop();
  });

  it('runs Node 24 as the image user, with the root filesystem read-only', () => {
    // The spawned process is the server itself (unshare, sh and chroot each exec the next).
    const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
    const [uid, gid] = config.user.split(':');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'));
    expect(status).toMatch(new RegExp(`^Gid:\\s+${gid}\\s+${gid}\\s+${gid}\\s+${gid}$`, 'm'));
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0')).toEqual(
      expect.arrayContaining(['/usr/local/bin/node', '/app/bin/nexus.js', 'start']),
    );
    // mountinfo: mount point is field 5, per-mount options field 6.
    const mounts = readFileSync(`/proc/${server.pid}/mountinfo`, 'utf8')
      .split('\n')
      .map((l) => l.split(' '));
    const options = (point: string) => mounts.find((m) => m[4] === point)?.[5]?.split(',');
    expect(options('/')).toContain('ro');
    expect(options('/data')).toContain('rw');
    // The embedded database lives in the /data volume; on PostgreSQL nothing is stored there.
    if (backend === 'embedded') expect(readdirSync(dataDir)).toContain('pgdata');
    else expect(readdirSync(dataDir)).not.toContain('pgdata');
  });

  it('answers /readyz, and its HEALTHCHECK command passes inside the container', async () => {
    const res = await fetch(`${server.baseUrl}/readyz`);
    expect(res.status).toBe(200);
    const port = new URL(server.baseUrl).port;
    const { command, args, env } = container.launch(dataDir, config.healthcheck.slice(1));
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, { env: { ...env, PORT: port }, stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    expect(code).toBe(0);
  });

  it('serves GetToken for a static-credential connection created through the API', async () => {
    const admin = clients(server.baseUrl, ADMIN_KEY);
    const anon = clients(server.baseUrl);
    await admin.providers.createProvider({ provider: apiKeyProvider() });
    const created = await admin.connections.createConnection({
      workspaceId: 'ws-image',
      provider: { case: 'providerName', value: 'acme-api' },
      returnUrl: RETURN_URL,
    });
    const apiKey = `ak_image_${backend}_${Date.now()}`;
    await anon.connections.submitCredentials({ state: created.state, credentials: { api_key: apiKey } });
    const token = (await admin.tokens.getToken({ connectionId: created.connection!.id })).credential!;
    expect(token.connectionId).toBe(created.connection!.id);
    expect(token.strategy?.type).toBe(StrategyType.API_KEY);
    expect(token.credentials).toEqual({ case: 'apiKey', value: expect.objectContaining({ apiKey }) });
    expect(server.output()).not.toContain(apiKey);
  });
});
