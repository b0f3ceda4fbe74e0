import { describe, expect, it } from 'vitest';
import { ConfigError, loadWebhookDeliveryConfig } from '../../../src/config/config.js';

describe('webhook delivery settings (NEXUS_WEBHOOK_*)', () => {
  it('has bounded defaults: the lease outlasts an attempt, retries for three days', () => {
    expect(loadWebhookDeliveryConfig({})).toEqual({
      worker: true,
      pollMs: 2_000,
      batchSize: 20,
      concurrency: 10,
      timeoutMs: 10_000,
      leaseMs: 25_000,
      backoffBaseMs: 5_000,
      backoffMaxMs: 3_600_000,
      maxAgeMs: 3 * 86_400_000,
    });
    expect(loadWebhookDeliveryConfig({ NEXUS_WEBHOOK_TIMEOUT_MS: '2000' }).leaseMs).toBe(17_000);
  });

  it('refuses a lease shorter than an attempt, a cap below the base, and values out of range', () => {
    expect(() => loadWebhookDeliveryConfig({ NEXUS_WEBHOOK_TIMEOUT_MS: '5000', NEXUS_WEBHOOK_LEASE_MS: '5500' })).toThrow(
      /NEXUS_WEBHOOK_LEASE_MS "5500" must be a whole number from 6000 to 3600000/,
    );
    expect(() => loadWebhookDeliveryConfig({ NEXUS_WEBHOOK_BACKOFF_BASE_MS: '1000', NEXUS_WEBHOOK_BACKOFF_MAX_MS: '500' })).toThrow(
      /NEXUS_WEBHOOK_BACKOFF_MAX_MS/,
    );
    expect(() => loadWebhookDeliveryConfig({ NEXUS_WEBHOOK_CONCURRENCY: '0' })).toThrow(ConfigError);
    expect(() => loadWebhookDeliveryConfig({ NEXUS_WEBHOOK_MAX_AGE_SECONDS: '1' })).toThrow(/NEXUS_WEBHOOK_MAX_AGE_SECONDS/);
    expect(() => loadWebhookDeliveryConfig({ NEXUS_WEBHOOK_WORKER: 'maybe' })).toThrow(/NEXUS_WEBHOOK_WORKER/);
    expect(loadWebhookDeliveryConfig({ NEXUS_WEBHOOK_WORKER: 'false' }).worker).toBe(false);
  });
});
