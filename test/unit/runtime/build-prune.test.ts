import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneStaleOutput } from '../../../scripts/build.mjs';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const probeDir = path.join(ROOT, 'dist', 'src', '__prune_probe__');

describe('npm run build: compiled files of deleted sources', () => {
  afterEach(() => rmSync(probeDir, { recursive: true, force: true }));

  it('are removed, so dist/ never ships (or warms the compile cache with) a module whose source is gone', () => {
    mkdirSync(probeDir, { recursive: true });
    const stale = ['moved.js', 'moved.js.map', 'moved.d.ts'].map((f) => path.join(probeDir, f));
    for (const f of stale) writeFileSync(f, '');
    // A compiled file whose source exists stays.
    const kept = path.join(ROOT, 'dist', 'src', 'logging.js');
    const keptExisted = existsSync(kept);
    mkdirSync(path.dirname(kept), { recursive: true });
    if (!keptExisted) writeFileSync(kept, '');
    try {
      pruneStaleOutput();
      for (const f of stale) expect(existsSync(f), f).toBe(false);
      expect(existsSync(kept)).toBe(true);
    } finally {
      if (!keptExisted) rmSync(kept, { force: true });
    }
  });
});
