import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const config = 'test/fixtures/summary-reporter/vitest.config.ts';

/** Runs vitest over the reporter fixtures (optionally only the named files) and returns its closing line. */
function runFixtures(...files: string[]): { closingLine: string; status: number | null } {
  const result = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', config, ...files], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CI: '1', NO_COLOR: '1' },
  });
  const lines = result.stdout.trim().split('\n');
  return { closingLine: lines.at(-1) ?? '', status: result.status };
}

describe('the closing line of a test run', () => {
  it('counts suites that could not run (import or beforeAll threw) and failed teardowns as failures, and the run fails', () => {
    const { closingLine, status } = runFixtures();
    expect(closingLine).toMatch(/^\d+ passed, \d+ failed/);
    // passes.fixture.ts: 1 passed, 1 skipped; teardown-throws: 1 passed but its afterAll threw;
    // setup-throws: beforeAll threw, its 2 tests never ran (not "skipped"); import-throws: never collected.
    expect(closingLine).toBe('2 passed, 3 failed (including 3 suites that could not run or failed in a hook), 1 skipped');
    expect(status).not.toBe(0);
  });

  it('a suite that cannot start is a failure on its own', () => {
    const { closingLine, status } = runFixtures('setup-throws');
    expect(closingLine).toBe('0 passed, 1 failed (including 1 suite that could not run or failed in a hook), 0 skipped');
    expect(status).not.toBe(0);
  });

  it('a clean run keeps the plain line and exits 0', () => {
    const { closingLine, status } = runFixtures('passes');
    expect(closingLine).toBe('1 passed, 0 failed, 1 skipped');
    expect(status).toBe(0);
  });
});
