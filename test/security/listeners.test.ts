import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, clients, startTestApp, type TestApp, type TransportKind } from '../support/test-app.js';

/**
 * Every call in flight links its abort signal to the server's shutdown
 * signal. Connect's fastify plugin created that signal itself, with Node's
 * default limit of 10 listeners, so an 11th concurrent call printed
 * "MaxListenersExceededWarning: Possible EventTarget memory leak" although
 * nothing leaked (each call removes its listener when it ends). The server
 * now owns the signal, without that limit; calls in flight are bounded by
 * the admission limits instead.
 */
describe('concurrent calls', () => {
  let nexus: TestApp;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);

  beforeAll(async () => {
    nexus = await startTestApp({ backend: 'postgres' });
    process.on('warning', onWarning);
  });

  afterAll(async () => {
    process.off('warning', onWarning);
    await nexus?.close();
  });

  it.each<TransportKind>(['connect', 'grpc', 'grpc-web'])('50 concurrent RPCs over %s print no MaxListenersExceededWarning', async (kind) => {
    const api = clients(nexus.baseUrl, ADMIN_KEY, kind);
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.connections.listConnections({ pageSize: 5 })));
    expect(answers).toHaveLength(50);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setTimeout(r, 100));
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});
