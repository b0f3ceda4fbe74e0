// The receiver in docs/webhooks.md ("Verifying a message"), run as written
// (only its port changed): it accepts what Nexus signs, with either secret of
// a rotation, refuses a tampered or unsigned message, and acts once per
// webhook-id. A doc example that stops working fails here.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook } from '../../src/domain/webhooks/signing.js';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The first ```ts block after the heading. */
function example(doc: string, heading: string): string {
  const from = doc.indexOf(heading);
  expect(from, `docs/webhooks.md has no "${heading}"`).toBeGreaterThan(-1);
  const match = /```ts\n([\s\S]*?)```/.exec(doc.slice(from));
  expect(match, `no ts block under "${heading}"`).not.toBeNull();
  return match![1]!;
}

describe('the receiver example of docs/webhooks.md', () => {
  const oldSecret = generateWebhookSecret();
  const newSecret = generateWebhookSecret();
  let dir: string;
  let child: ChildProcess;
  let url: string;
  let output = '';

  beforeAll(async () => {
    const code = example(readFileSync(path.join(ROOT, 'docs/webhooks.md'), 'utf8'), '## Verifying a message');
    expect(code).toContain('.listen(8080)');
    // Inside the repository, so that `standardwebhooks` resolves from its node_modules.
    dir = mkdtempSync(path.join(ROOT, '.webhooks-docs-'));
    writeFileSync(path.join(dir, 'receiver.ts'), code.replace('.listen(8080)', '.listen(Number(process.env.PORT))'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(dir, 'receiver.ts')], {
      env: { ...process.env, PORT: String(port), NEXUS_WEBHOOK_SECRET: newSecret },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    // Up when it answers (an unsigned message: 400).
    const until = Date.now() + 30_000;
    let status = 0;
    while (status === 0 && Date.now() < until) {
      status = await fetch(url, { method: 'POST', body: '{}' }).then(
        (r) => r.status,
        () => new Promise<number>((resolve) => setTimeout(() => resolve(0), 200)),
      );
    }
    if (status !== 400) throw new Error(`the receiver did not start (status ${status}): ${output}`);
  }, 40_000);
  afterAll(() => {
    child?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', body, headers }).then((r) => r.status);
  const body = JSON.stringify({ type: 'connection.active', timestamp: new Date().toISOString(), data: { id: 'conn_docs', status: 'ACTIVE' } });

  it('accepts a message signed during a rotation (old and new secret), once per webhook-id', async () => {
    const headers = signWebhook({ id: 'msg_1_whep_docs', timestamp: Math.floor(Date.now() / 1000), body, secrets: [oldSecret, newSecret] });
    expect(await post(body, headers)).toBe(204);
    expect(await post(body, headers)).toBe(204); // a retry: acknowledged, not acted on again
    await expect.poll(() => output).toContain('connection.active conn_docs ACTIVE');
    expect(output.split('connection.active conn_docs ACTIVE').length - 1).toBe(1);
  });

  it('refuses a tampered body, a foreign secret, an old timestamp and a missing signature', async () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = signWebhook({ id: 'msg_2_whep_docs', timestamp: now, body, secrets: [newSecret] });
    expect(await post(body.replace('ACTIVE', 'REVOKED'), headers)).toBe(400);
    expect(await post(body, signWebhook({ id: 'msg_3_whep_docs', timestamp: now, body, secrets: [oldSecret] }))).toBe(400);
    expect(await post(body, signWebhook({ id: 'msg_4_whep_docs', timestamp: now - 3600, body, secrets: [newSecret] }))).toBe(400);
    const { 'webhook-signature': _dropped, ...unsigned } = headers;
    expect(await post(body, unsigned)).toBe(400);
  });
});
