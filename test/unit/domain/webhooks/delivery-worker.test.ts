import { describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../../../src/domain/webhooks/delivery-worker.js';
import type { WebhookDeliveriesPort } from '../../../../src/domain/ports/webhook-deliveries.js';

/** A queue that is always empty, counting the polls (each poll asks for the backlog first). */
function emptyQueue(): WebhookDeliveriesPort & { polls: number } {
  return {
    polls: 0,
    async backlog() {
      this.polls++;
      return { due: 0, backingOff: 0 };
    },
    claim: async () => [],
    complete: async () => true,
    release: async () => true,
  };
}

function worker(queue: WebhookDeliveriesPort, pollMs: number): DeliveryWorker {
  return new DeliveryWorker(
    {
      deliveries: queue,
      send: async () => ({ status: 204, excerpt: '' }),
      sign: () => ({}),
      liveSecrets: () => ['whsec_x'],
      audit: { record: () => undefined },
      warn: () => undefined,
    },
    { pollMs, batchSize: 10, concurrency: 10, leaseMs: 10_000, backoffBaseMs: 1_000, backoffMaxMs: 10_000, maxAgeMs: 60_000 },
  );
}

describe('DeliveryWorker scheduling', () => {
  it('a steady stream of nudges still polls (a nudge never pushes a due poll back)', async () => {
    const queue = emptyQueue();
    const w = worker(queue, 60_000);
    w.start();
    await new Promise((r) => setTimeout(r, 50));
    const before = queue.polls;
    const nudging = setInterval(() => w.nudge(), 5);
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(nudging);
    await w.stop();
    expect(queue.polls - before).toBeGreaterThanOrEqual(3);
  });

  it('idle, it polls once per interval and not at all after stop', async () => {
    const queue = emptyQueue();
    const w = worker(queue, 100);
    w.start();
    await new Promise((r) => setTimeout(r, 350));
    await w.stop();
    const polls = queue.polls;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(polls).toBeLessThanOrEqual(5);
    await new Promise((r) => setTimeout(r, 250));
    expect(queue.polls).toBe(polls);
    w.nudge();
    await new Promise((r) => setTimeout(r, 50));
    expect(queue.polls).toBe(polls);
  });
});
