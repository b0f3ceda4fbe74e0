import { describe, expect, it } from 'vitest';
import { RefusalThrottle } from '../../../../src/domain/audit/refusal-throttle.js';
import type { AuditEventInput } from '../../../../src/domain/audit/types.js';

const refusal = (clientIp: string, projectId = 'prj_default'): AuditEventInput => ({
  projectId,
  actor: { kind: 'anonymous', presented: 'nxs_abcd' },
  action: 'token.read',
  outcome: 'denied',
  reason: 'UNAUTHENTICATED',
  clientIp,
});

function setup(options: { perIp: number; total?: number; maxTracked?: number }) {
  let now = 1_000_000;
  const recorded: AuditEventInput[] = [];
  const throttle = new RefusalThrottle({ record: (e) => recorded.push(e) }, { ...options, windowMs: 60_000, clock: () => now });
  return { throttle, recorded, advance: (ms: number) => (now += ms) };
}

const summaries = (events: AuditEventInput[]) =>
  events.filter((e) => e.action === 'audit.refusals_suppressed').map((e) => [e.projectId, e.clientIp ?? '', e.detail?.suppressed]);

describe('RefusalThrottle', () => {
  it('records perIp refusals of an address per window, counts the rest, and summarizes them when the window ends', () => {
    const { throttle, recorded, advance } = setup({ perIp: 3 });
    for (let i = 0; i < 10; i++) throttle.record(refusal('203.0.113.9'));
    throttle.record(refusal('198.51.100.1'));
    expect(recorded.filter((e) => e.action === 'token.read').map((e) => e.clientIp)).toEqual(['203.0.113.9', '203.0.113.9', '203.0.113.9', '198.51.100.1']);
    expect(summaries(recorded)).toEqual([]);
    advance(60_000);
    // The next refusal opens a new window: the last one's summary first, then the refusal, recorded again.
    throttle.record(refusal('203.0.113.9'));
    expect(summaries(recorded)).toEqual([['prj_default', '203.0.113.9', 7]]);
    expect(recorded.at(-1)).toMatchObject({ action: 'token.read', clientIp: '203.0.113.9' });
    expect(recorded.find((e) => e.action === 'audit.refusals_suppressed')).toMatchObject({
      actor: { kind: 'system' },
      detail: { recorded: 3, window_seconds: 60 },
    });
  });

  it('counts per project: one address spraying two projects gets a budget and a summary in each', () => {
    const { throttle, recorded } = setup({ perIp: 1 });
    for (const p of ['prj_a', 'prj_a', 'prj_b', 'prj_b', 'prj_b']) throttle.record(refusal('203.0.113.9', p));
    throttle.flush();
    expect(summaries(recorded).sort()).toEqual([
      ['prj_a', '203.0.113.9', 1],
      ['prj_b', '203.0.113.9', 2],
    ]);
  });

  it('bounds the total across addresses, and the addresses it tracks (the rest are summed, never dropped uncounted)', () => {
    const { throttle, recorded } = setup({ perIp: 2, total: 5, maxTracked: 3 });
    for (let i = 0; i < 20; i++) throttle.record(refusal(`2001:db8::${i}`));
    expect(recorded.filter((e) => e.action === 'token.read')).toHaveLength(5);
    throttle.flush();
    const counted = summaries(recorded).reduce((n, [, , s]) => n + Number(s), 0);
    expect(counted).toBe(15);
    // The untracked addresses are one summary without an address.
    expect(recorded.find((e) => e.action === 'audit.refusals_suppressed' && e.detail?.other_addresses)).toMatchObject({ projectId: 'prj_default' });
    // A new window starts afresh.
    recorded.length = 0;
    throttle.record(refusal('2001:db8::1'));
    expect(recorded).toHaveLength(1);
  });
});
