import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { bindPort, firstScreen, release } from '../../../src/cli/start.js';
import { formatPretty } from '../../../src/logging.js';
import { freePort } from '../../support/ports.js';

describe('bindPort: the port is held from the first moment', () => {
  it('answers "starting" until the app takes over, then the app answers', async () => {
    const port = await freePort();
    const server = await bindPort(port, '127.0.0.1');
    try {
      const live = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'starting' });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('1');
      await fetch(`http://127.0.0.1:${port}/nexus.v1.TokenService/GetToken`, { method: 'POST' }).then((r) => expect(r.status).toBe(503));

      // What fastify does: hands over its handler, then calls listen() once its routes are ready.
      const app: http.RequestListener = (_req, res) => res.end('app');
      server.takeOver(app);
      expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).text()).toContain('starting');
      await new Promise<void>((resolve) => server.once('listening', resolve).listen({ port, host: '127.0.0.1' }));
      expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).text()).toBe('app');
    } finally {
      await release(server);
    }
  });

  it('is released at once although a client keeps a connection to it alive (the cluster primary holds the port while it migrates)', async () => {
    const port = await freePort();
    const server = await bindPort(port, '127.0.0.1');
    // fetch keeps its socket alive; close() alone would wait for it.
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    const released = await Promise.race([release(server).then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]);
    expect(released).toBe(true);
    expect(server.listening).toBe(false);
  });

  it('a busy port is a clear error that names it', async () => {
    const port = await freePort();
    const first = await bindPort(port, '127.0.0.1');
    try {
      await expect(bindPort(port, '127.0.0.1')).rejects.toThrow(
        `port ${port} on 127.0.0.1 is already in use (another Nexus?): stop that process or set PORT to a free port`,
      );
    } finally {
      await release(first);
    }
  });
});

describe('firstScreen', () => {
  const config = { baseUrl: 'http://localhost:8080', production: false, dataDir: '/srv/nexus' };

  it('names the API, the web app, the walkthrough and the database, and the key only when new', () => {
    const screen = firstScreen({ config, embedded: true, adminKey: undefined });
    expect(screen).toContain('API          http://localhost:8080 ');
    expect(screen).toContain('Web app      http://localhost:8080/manage/');
    expect(screen).toContain('Walkthrough  README.md');
    expect(screen).toContain('Database     embedded, in /srv/nexus');
    expect(screen).not.toContain('Admin API key');
    expect(screen.split('\n').length).toBeLessThan(12);
    const withKey = firstScreen({ config, embedded: false, adminKey: 'nxs_new' });
    expect(withKey).toContain('Admin API key for the default project (shown once, store it now):\n\n  nxs_new');
    expect(withKey).toContain('Database     PostgreSQL');
  });
});

describe('formatPretty', () => {
  it('turns a JSON log record into one line: time, level, message, fields', () => {
    const line = formatPretty(
      JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 12, 0, 1, 5), pid: 1, hostname: 'h', msg: 'worker exited', code: 1, req: { url: '/x' } }),
    );
    expect(line).toBe('12:00:01.005 WARN  worker exited  code=1 req={"url":"/x"}\n');
  });

  it('puts an error stack on its own lines and leaves non-JSON as it is', () => {
    const line = formatPretty(JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f' } }));
    expect(line).toBe('00:00:00.000 ERROR failed\n    Error: boom\n        at f\n');
    expect(formatPretty('plain text')).toBe('plain text\n');
  });
});
