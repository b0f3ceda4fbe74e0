import type { TestProject } from 'vitest/node';
import { build } from '../scripts/build.mjs';
import { ThrowawayCluster } from './support/postgres-cluster.js';

/**
 * Provides `databaseUrl`: a real PostgreSQL for the integration suites.
 * CI starts the system cluster and sets NEXUS_TEST_DATABASE_URL; without it
 * (a developer's machine) a throwaway cluster is created from the installed
 * PostgreSQL binaries and removed afterwards, so `npm test` needs no setup.
 * Also builds what spawned servers and CLI commands run (bin/nexus.js runs the
 * compiled dist/) and the web app, each only when missing or stale.
 */
export default async function setup(project: TestProject) {
  // Spawned `nexus` processes run dist/; the server serves the web app from web/dist (browser tests drive it).
  await build({ ifNeeded: true });
  let url = process.env.NEXUS_TEST_DATABASE_URL;
  let cluster: ThrowawayCluster | undefined;
  if (!url) {
    cluster = await ThrowawayCluster.create();
    url = cluster.url;
  }
  project.provide('databaseUrl', url);
  return async () => {
    await cluster?.destroy();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
