import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID } from '../../src/domain/model/project.js';
import type { Resolver } from '../../src/domain/outbound/outbound-policy.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { insertDelivery, insertEndpoint, pollAndSettle, readDelivery, testWorker } from '../support/webhook-deliveries.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * SSRF and resource limits at delivery time. An endpoint URL was checked when
 * it was saved, but what it points at can change (DNS), and the request goes
 * out much later from inside the network: every attempt is checked again, on
 * the address the socket actually connects to, and a receiver cannot make
 * Nexus read an unbounded answer or follow it elsewhere.
 */
describe('webhook delivery refuses internal targets and bounds what it reads', () => {
  let nexus: TestApp;
  let projectId: string;
  let internal: http.Server;
  let internalHits = 0;
  let internalPort: number;
  let receiver: WebhookReceiver;
  // A public-looking name that (now) resolves to loopback: DNS changed after the endpoint was saved.
  const resolver: Resolver = async (host) =>
    host === 'hooks.rebound.example' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '93.184.216.34', family: 4 }];

  beforeAll(async () => {
    // A loopback service that is NOT on NEXUS_OUTBOUND_ALLOWED_HOSTS (a metadata endpoint, an admin port, ...).
    internal = http.createServer((_req, res) => {
      internalHits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    internalPort = (internal.address() as AddressInfo).port;
    receiver = await WebhookReceiver.start();
    nexus = await startTestApp({ backend: 'postgres', outboundResolver: resolver });
    projectId = DEFAULT_PROJECT_ID;
  }, 120_000);
  afterAll(async () => {
    await nexus?.close();
    await receiver?.stop();
    await new Promise((resolve) => internal?.close(resolve));
  });
  beforeEach(() => {
    internalHits = 0;
    receiver.received.length = 0;
    receiver.mode = { kind: 'ok' };
  });

  const ds = () => nexus.app.database.dataSource;
  async function attempt(url: string): Promise<Awaited<ReturnType<typeof readDelivery>>> {
    const e = await insertEndpoint(ds(), nexus.config.keyRing, { projectId, url });
    receiver.secrets = e.secrets;
    const d = await insertDelivery(ds(), { projectId, endpointId: e.id, connectionId: `conn_${e.id}`, createdAt: new Date() });
    await pollAndSettle(testWorker(nexus.app, nexus.config.keyRing, { timeoutMs: 2_000 }));
    return readDelivery(ds(), d.id);
  }

  it.each([
    ['a loopback port not on the allow-list', () => `http://127.0.0.1:${internalPort}/hook`, /must be https/],
    ['https to a loopback literal', () => `https://127.0.0.1:${internalPort}/hook`, /points at/],
    ['a cloud metadata address', () => 'https://169.254.169.254/latest/meta-data/', /points at/],
    ['an IPv6 loopback literal', () => `https://[::1]:${internalPort}/hook`, /points at/],
  ])('%s: refused, nothing sent, recorded as a failed attempt', async (_name, url, why) => {
    const row = await attempt(url());
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(row.last_error).toMatch(/^refused by the outbound policy: /);
    expect(row.last_error).toMatch(why);
    expect(internalHits).toBe(0);
  });

  it('a name that now resolves to an internal address is refused at connect time (DNS rebinding)', async () => {
    const row = await attempt(`https://hooks.rebound.example:${internalPort}/hook`);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(row.last_error).toMatch(/refused by the outbound policy: .*resolves to/);
    expect(internalHits).toBe(0);
  });

  it('a redirect to an internal address is never followed', async () => {
    receiver.mode = { kind: 'status', status: 302, headers: { location: `http://127.0.0.1:${internalPort}/hook` } };
    const row = await attempt(receiver.url);
    expect(row).toMatchObject({ status: 'pending', last_status_code: 302, last_error: 'HTTP 302' });
    expect(internalHits).toBe(0);
  });

  it('a huge error answer is cut after a short excerpt, and the attempt ends promptly', async () => {
    const huge = `${'<html>'.repeat(10)}${'A'.repeat(20 * 1024 * 1024)}`;
    receiver.mode = { kind: 'status', status: 500, body: huge };
    const started = Date.now();
    const row = await attempt(receiver.url);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(row.last_status_code).toBe(500);
    expect(row.last_error!.length).toBeLessThanOrEqual(220);
    expect(row.last_error).toMatch(/^HTTP 500: <html>/);
  });
});
