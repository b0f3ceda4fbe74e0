import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../../../src/domain/shared/errors.js';
import type { ProjectQuotaRow, QuotaLimits, QuotaOverride } from '../../../src/domain/model/project-quotas.js';
import type { ProjectQuotasPort } from '../../../src/domain/ports/persistence.js';
import { ProjectQuotas } from '../../../src/domain/quotas/project-quotas.js';

const DEFAULTS: QuotaLimits = { keyRatePerSecond: 100, keyBurst: 400, ipRatePerSecond: 300, ipBurst: 1200 };
const NONE: QuotaOverride = { keyRatePerSecond: null, keyBurst: null, ipRatePerSecond: null, ipBurst: null };

function fakePort() {
  const rows = new Map<string, ProjectQuotaRow>();
  let reads = 0;
  let failing = false;
  const port: ProjectQuotasPort = {
    async find(projectId) {
      reads++;
      if (failing) throw new Error('connection refused');
      return rows.get(projectId) ?? null;
    },
    async findMany(projectIds) {
      reads++;
      return projectIds.flatMap((id) => rows.get(id) ?? []);
    },
    async upsert(projectId, override) {
      const row = { projectId, ...override, updatedAt: new Date(0) };
      rows.set(projectId, row);
      return row;
    },
  };
  return {
    port,
    rows,
    reads: () => reads,
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

describe('project quotas', () => {
  it("applies a project's overrides over the defaults, field by field", async () => {
    const db = fakePort();
    db.rows.set('p', { projectId: 'p', ...NONE, keyRatePerSecond: 5, updatedAt: new Date(0) });
    const quotas = new ProjectQuotas({ projectQuotas: db.port }, DEFAULTS, { clock: () => 0 });
    expect(await quotas.limitsOf('p')).toEqual({ ...DEFAULTS, keyRatePerSecond: 5 });
    expect(await quotas.limitsOf('other')).toEqual(DEFAULTS);
  });

  it('answers from its cache synchronously, and re-reads once after the TTL while serving the old answer', async () => {
    const db = fakePort();
    let now = 0;
    const quotas = new ProjectQuotas({ projectQuotas: db.port }, DEFAULTS, { clock: () => now, ttlMs: 1_000 });
    await quotas.limitsOf('p');
    expect(quotas.limitsOf('p')).toEqual(DEFAULTS);
    expect(db.reads()).toBe(1);
    // Another replica changes the project's quotas.
    db.rows.set('p', { projectId: 'p', ...NONE, keyBurst: 7, updatedAt: new Date(0) });
    now = 999;
    expect(quotas.limitsOf('p')).toEqual(DEFAULTS);
    now = 1_000;
    expect(quotas.limitsOf('p')).toEqual(DEFAULTS);
    expect(quotas.limitsOf('p')).toEqual(DEFAULTS);
    await new Promise((r) => setImmediate(r));
    expect(db.reads()).toBe(2);
    expect(quotas.limitsOf('p')).toEqual({ ...DEFAULTS, keyBurst: 7 });
  });

  it('a change made through this replica applies at once', async () => {
    const db = fakePort();
    const quotas = new ProjectQuotas({ projectQuotas: db.port }, DEFAULTS, { clock: () => 0 });
    await quotas.limitsOf('p');
    const view = await quotas.set('p', { ...NONE, ipRatePerSecond: 0 });
    expect(view.effective).toEqual({ ...DEFAULTS, ipRatePerSecond: 0 });
    expect(quotas.limitsOf('p')).toEqual({ ...DEFAULTS, ipRatePerSecond: 0 });
    expect((await quotas.view('p')).override).toEqual({ ...NONE, ipRatePerSecond: 0 });
  });

  it('keeps the last answer (or the defaults) while the database is unreachable', async () => {
    const db = fakePort();
    let now = 0;
    db.rows.set('p', { projectId: 'p', ...NONE, keyBurst: 9, updatedAt: new Date(0) });
    const quotas = new ProjectQuotas({ projectQuotas: db.port }, DEFAULTS, { clock: () => now, ttlMs: 10 });
    await quotas.limitsOf('p');
    db.fail(true);
    now = 20;
    quotas.limitsOf('p');
    await new Promise((r) => setImmediate(r));
    expect(quotas.limitsOf('p')).toEqual({ ...DEFAULTS, keyBurst: 9 });
    expect(await quotas.limitsOf('new')).toEqual(DEFAULTS);
  });

  it('refuses out-of-bounds overrides, naming the field', async () => {
    const quotas = new ProjectQuotas({ projectQuotas: fakePort().port }, DEFAULTS);
    await expect(quotas.set('p', { ...NONE, keyBurst: 0 })).rejects.toThrow(InvalidFieldError);
    await expect(quotas.set('p', { ...NONE, keyRatePerSecond: -1 })).rejects.toThrow(/keyRatePerSecond/);
    await expect(quotas.set('p', { ...NONE, ipRatePerSecond: 1.5 })).rejects.toThrow(InvalidFieldError);
    await expect(quotas.set('p', { ...NONE, ipBurst: 10_000_001 })).rejects.toThrow(InvalidFieldError);
  });

  it('holds a bounded number of projects', async () => {
    const db = fakePort();
    const quotas = new ProjectQuotas({ projectQuotas: db.port }, DEFAULTS, { clock: () => 0, maxProjects: 3 });
    for (const p of ['a', 'b', 'c', 'd']) await quotas.limitsOf(p);
    expect(quotas.limitsOf('d')).not.toBeInstanceOf(Promise);
    expect(quotas.limitsOf('a')).toBeInstanceOf(Promise);
  });
});
