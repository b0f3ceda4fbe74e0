import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook, webhookSecretKey } from '../../../../src/domain/webhooks/signing.js';

// The independent implementation (the `standardwebhooks` npm package) must
// accept what we sign, with either secret of a rotation, and refuse tampering.

const body = JSON.stringify({ type: 'connection.active', timestamp: '2026-12-01T00:00:00.000Z', data: { id: 'conn_1' } });
const now = () => Math.floor(Date.now() / 1000);

describe('signWebhook', () => {
  it('is verified by the standardwebhooks package', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook({ id: 'msg_1_whep_1', timestamp: now(), body, secrets: [secret] });
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with both secrets during a rotation, and each verifies alone', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const headers = signWebhook({ id: 'msg_2', timestamp: now(), body, secrets: [oldSecret, newSecret] });
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('fails verification when the body, id or timestamp changes', () => {
    const secret = generateWebhookSecret();
    const ts = now();
    const headers = signWebhook({ id: 'msg_3', timestamp: ts, body, secrets: [secret] });
    const wh = new Webhook(secret);
    expect(() => wh.verify(`${body} `, headers)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'msg_4' })).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, 'webhook-timestamp': String(ts - 1) })).toThrow(WebhookVerificationError);
  });

  it('matches the specification test vector', () => {
    // From the Standard Webhooks specification's examples.
    const headers = signWebhook({
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('generates 32-byte whsec_ secrets and refuses malformed ones', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(webhookSecretKey(a)).toHaveLength(32);
    expect(a).not.toBe(generateWebhookSecret());
    expect(() => webhookSecretKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toThrow(TypeError);
    expect(() => webhookSecretKey('whsec_c2hvcnQ=')).toThrow(TypeError);
    expect(() => signWebhook({ id: 'm', timestamp: 1.5, body, secrets: [a] })).toThrow(TypeError);
    expect(() => signWebhook({ id: 'm', timestamp: 1, body, secrets: [] })).toThrow(TypeError);
  });
});
