import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLoadConfig, type LoadConfig } from '../../src/config/config.js';
import { ADMIN_KEY, clients, startTestApp, type TestApp } from '../support/test-app.js';
import { watchAll } from '../support/watch.js';

/**
 * Silent and slow connections (SECURITY.md, "Hostile clients"): the front
 * server sniffs each connection's protocol and hands it to an inner server
 * that never listens, so Node's own HTTP timers never ran. Each case here
 * stayed open past 130 s before; with short test settings each must now
 * close within its timeout plus a little slack, while a healthy watch
 * stream outlives the idle timeout many times over.
 */

const SHORT: Partial<LoadConfig> = {
  headersTimeoutMs: 600,
  requestTimeoutMs: 1_500,
  idleTimeoutMs: 1_500,
  keepAliveTimeoutMs: 600,
  shutdownTimeoutMs: 500,
};
const SLACK_MS = 2_500;

/** Resolves with how long the socket stayed open after `since`, or rejects after `limitMs`. */
function closedWithin(socket: net.Socket, limitMs: number, since = performance.now()): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${limitMs} ms`)), limitMs);
    const done = () => {
      clearTimeout(timer);
      resolve(performance.now() - since);
    };
    if (socket.destroyed) done();
    else socket.once('close', done);
  });
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

describe('silent and slow connections are closed', () => {
  let nexus: TestApp;
  let port: number;

  beforeAll(async () => {
    nexus = await startTestApp({
      backend: 'postgres',
      config: { streamHeartbeatMs: 200, load: { ...loadLoadConfig({}), ...SHORT, maxConnections: 20, unauthRatePerSecond: 100_000, unauthBurst: 100_000 } },
    });
    port = nexus.config.port;
  });

  afterAll(async () => {
    await nexus?.close();
  });

  it('a socket that never sends a byte', async () => {
    const socket = await connect(port);
    expect(await closedWithin(socket, SHORT.headersTimeoutMs! + SLACK_MS)).toBeGreaterThan(SHORT.headersTimeoutMs! - 100);
  });

  it('HTTP/1.1 headers that never finish', async () => {
    const socket = await connect(port);
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    const trickle = setInterval(() => socket.writable && socket.write('a'), 100);
    try {
      await closedWithin(socket, SHORT.headersTimeoutMs! + SLACK_MS);
    } finally {
      clearInterval(trickle);
    }
  });

  it('an HTTP/1.1 body trickled a byte at a time', async () => {
    const socket = await connect(port);
    socket.write(
      'POST /nexus.v1.ProviderService/ListProviders HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    const trickle = setInterval(() => socket.writable && socket.write(' '), 100);
    try {
      await closedWithin(socket, SHORT.requestTimeoutMs! + SLACK_MS);
    } finally {
      clearInterval(trickle);
    }
  });

  it('an idle HTTP/1.1 keep-alive connection', async () => {
    const socket = await connect(port);
    const answered = new Promise((resolve) => socket.once('data', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await answered;
    await closedWithin(socket, SHORT.keepAliveTimeoutMs! + SLACK_MS);
  });

  it('an idle HTTP/2 session, and an HTTP/2 request body that never ends', async () => {
    const idle = http2.connect(`http://127.0.0.1:${port}`);
    idle.on('error', () => {});
    const idleClosed = new Promise((resolve) => idle.once('close', resolve));

    const busy = http2.connect(`http://127.0.0.1:${port}`);
    busy.on('error', () => {});
    const stream = busy.request({ ':method': 'POST', ':path': '/nexus.v1.ProviderService/ListProviders', 'content-type': 'application/json' });
    stream.on('error', () => {});
    stream.write('{');
    const trickle = setInterval(() => !stream.closed && stream.write(' '), 100);
    const streamClosed = new Promise<number>((resolve) => stream.once('close', () => resolve(stream.rstCode ?? -1)));
    try {
      const limit = new Promise((_, reject) => setTimeout(() => reject(new Error('HTTP/2 still open')), SHORT.idleTimeoutMs! + SLACK_MS));
      await Promise.race([Promise.all([idleClosed, streamClosed]), limit]);
      expect(await streamClosed).toBe(http2.constants.NGHTTP2_CANCEL);
    } finally {
      clearInterval(trickle);
      idle.destroy();
      busy.destroy();
    }
  });

  it('a healthy watch stream lives on past the idle timeout (its heartbeats are traffic), over HTTP/1.1 and HTTP/2', { timeout: 20_000 }, async () => {
    const streams = [watchAll(clients(nexus.baseUrl, ADMIN_KEY)), watchAll(clients(nexus.baseUrl, ADMIN_KEY, 'grpc'))];
    try {
      await Promise.all(streams.map((s) => s.ready()));
      await new Promise((r) => setTimeout(r, 3 * SHORT.idleTimeoutMs!));
      for (const s of streams) expect(s.error).toBeUndefined();
      // Still live: a new connection shows up on both.
      await clients(nexus.baseUrl, ADMIN_KEY).providers.listProviders({});
    } finally {
      await Promise.all(streams.map((s) => s.stop()));
    }
  });

  it('connections beyond NEXUS_MAX_CONNECTIONS are closed on accept, and the server serves again once they go', { timeout: 20_000 }, async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    try {
      const extra = await connect(port);
      await closedWithin(extra, 1_000);
    } finally {
      for (const s of held) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(`${nexus.baseUrl}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe('a stop never waits past its drain deadline', () => {
  it('closes a silent socket, an unfinished HTTP/1.1 request and a stuck HTTP/2 stream within NEXUS_SHUTDOWN_TIMEOUT_MS', { timeout: 60_000 }, async () => {
    // Long request timeouts: only the drain deadline can end these.
    const nexus = await startTestApp({
      backend: 'postgres',
      config: { load: { ...loadLoadConfig({}), headersTimeoutMs: 60_000, requestTimeoutMs: 120_000, shutdownTimeoutMs: 500 } },
    });
    const port = nexus.config.port;
    const silent = await connect(port);
    const partial = await connect(port);
    partial.write('POST /nexus.v1.ProviderService/ListProviders HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    const stream = session.request({ ':method': 'POST', ':path': '/nexus.v1.ProviderService/ListProviders', 'content-type': 'application/json' });
    stream.on('error', () => {});
    stream.write('{');
    await new Promise((r) => setTimeout(r, 300));

    const started = performance.now();
    await nexus.close();
    const took = performance.now() - started;
    expect(took).toBeLessThan(500 + 1_000 + SLACK_MS);
    await Promise.all([closedWithin(silent, 1_000), closedWithin(partial, 1_000)]);
    expect(stream.closed || session.destroyed || session.closed).toBe(true);
    session.destroy();
  });
});
