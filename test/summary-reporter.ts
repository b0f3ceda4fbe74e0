import type { SerializedError } from 'vitest';
import type { Reporter, TestModule, TestSuite } from 'vitest/node';

/**
 * Ends the run with one plain line, which CI reads to count the tests that
 * ran: "N passed, M failed, S skipped", or, when some test files could not
 * run or a hook failed, "N passed, M failed (including K suites that could
 * not run or failed in a hook), S skipped".
 *
 * A file that throws while it is collected, or whose beforeAll/afterAll
 * throws, has no failed test of its own (its tests are never collected or
 * are marked skipped), so counting tests alone reported a run that could not
 * start as "0 failed". Such a file counts as one failure, its never-run tests
 * are not counted as skipped, and errors thrown outside any test (unhandled
 * rejections) count as failures too.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError> = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0, couldNotRun: 0 };
    for (const mod of testModules) {
      const broken = new Set<TestModule | TestSuite>([mod, ...mod.children.allSuites()].filter((s) => s.errors().length > 0));
      if (broken.size > 0 || (mod.state() === 'failed' && [...mod.children.allTests('failed')].length === 0)) counts.couldNotRun++;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else if (!underBrokenSuite(test.parent, broken)) counts.skipped++;
      }
    }
    const notRun = counts.couldNotRun + unhandledErrors.length;
    const detail = [
      counts.couldNotRun > 0 ? `${counts.couldNotRun} ${counts.couldNotRun === 1 ? 'suite' : 'suites'} that could not run or failed in a hook` : '',
      unhandledErrors.length > 0 ? `${unhandledErrors.length} unhandled ${unhandledErrors.length === 1 ? 'error' : 'errors'}` : '',
    ].filter(Boolean);
    const failed = detail.length > 0 ? `${counts.failed + notRun} failed (including ${detail.join(', ')})` : `${counts.failed} failed`;
    process.stdout.write(`\n${counts.passed} passed, ${failed}, ${counts.skipped} skipped\n`);
  }
}

function underBrokenSuite(suite: TestModule | TestSuite, broken: ReadonlySet<TestModule | TestSuite>): boolean {
  for (let s: TestModule | TestSuite = suite; ; s = s.parent) {
    if (broken.has(s)) return true;
    if (s.type === 'module') return false;
  }
}
