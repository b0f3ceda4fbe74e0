/**
 * Refresh storm: N OAuth connections (default 10,000) become due at the same
 * instant; the background workers of the replicas (real `nexus start`
 * processes on one PostgreSQL) refresh them against a minimal local
 * authorization server that records every refresh token presented.
 *
 * Prints, in one run: the refresh rate with one replica and with three, the
 * proof that each connection was refreshed exactly once (every seeded refresh
 * token presented exactly once, no other token presented, every connection
 * ACTIVE with a new token), and the reference: the authorization server's
 * own ceiling hit by a plain HTTP client at the same total concurrency.
 *
 * Environment: NEXUS_BENCH_DATABASE_URL (admin URL on a PostgreSQL, default the
 * local cluster), NEXUS_BENCH_STORM_CONNECTIONS (default 10000),
 * NEXUS_BENCH_STORM_CONCURRENCY (per replica, default 32), NEXUS_BENCH_STORM_SINGLE=0 skips
 * the one-replica reference run (the AS ceiling is always measured).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { KeyRing, newId } from '../src/crypto/index.js';
import { sealCredentials } from '../src/domain/connections/sealed-credentials.js';
import { DEFAULT_PROJECT_ID } from '../src/domain/shared/workspace-scope.js';
import type { TokenSet } from '../src/domain/oauth/token-set.js';
import { MinimalAuthServer } from '../test/support/minimal-as.js';
import { minimalProvider, replicaEnv } from '../test/support/refresh-fixtures.js';
import { startServerProcess, type ServerProcess } from '../test/support/server-process.js';
import { ADMIN_KEY, clients } from '../test/support/test-app.js';

const ADMIN_URL = process.env.NEXUS_BENCH_DATABASE_URL ?? 'postgres://nexus:nexus@127.0.0.1:5432/postgres';
const N = Number(process.env.NEXUS_BENCH_STORM_CONNECTIONS ?? 10_000);
const CONCURRENCY = Number(process.env.NEXUS_BENCH_STORM_CONCURRENCY ?? 32);
const LEAD_MS = 600_000;
const DAY_MS = 86_400_000;

interface StormResult {
  replicas: number;
  seconds: number;
  rate: number;
  claimedPerReplica: number[];
}

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `nexus_storm_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await work(url.href);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Inserts N ACTIVE connections whose sealed tokens expire inside the lead time, but whose clear expiry is a day away (not yet due). */
async function seed(db: pg.Client, ring: KeyRing, providerId: string, refreshTokens: string[]): Promise<void> {
  const expiresAt = Date.now() + 300_000;
  const later = new Date(Date.now() + DAY_MS);
  for (let offset = 0; offset < refreshTokens.length; offset += 500) {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (const [i, refreshToken] of refreshTokens.slice(offset, offset + 500).entries()) {
      const id = newId('conn');
      const tokens: TokenSet = { accessToken: `seed_${offset + i}`, tokenType: 'Bearer', refreshToken, expiresAt };
      const p = values.length;
      rows.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, 'ACTIVE', '{}', 'https://app.example.com/connections/return', $${p + 5}, $${p + 6})`);
      values.push(id, DEFAULT_PROJECT_ID, `storm-${offset + i}`, providerId, sealCredentials(ring, id, tokens), later);
    }
    await db.query(
      `INSERT INTO connections (id, project_id, workspace_id, provider_id, status, scopes, return_url, credentials_sealed, token_expires_at)
       VALUES ${rows.join(', ')}`,
      values,
    );
  }
}

async function claimed(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nexus_refresh_worker_claimed_total '));
  return Number(line?.split(' ')[1] ?? 0);
}

async function storm(as: MinimalAuthServer, replicaCount: number): Promise<StormResult> {
  return withDatabase(async (url) => {
    const ring = KeyRing.generate('storm');
    const env = replicaEnv(url, ring.toSpec(), {
      NEXUS_REFRESH_LEAD_MS: String(LEAD_MS),
      NEXUS_REFRESH_POLL_MS: '200',
      NEXUS_REFRESH_BATCH_SIZE: '100',
      NEXUS_REFRESH_CONCURRENCY: String(CONCURRENCY),
      NEXUS_DB_POOL_SIZE: '20',
      // A storm on a starved machine can keep a live holder from finishing within the default lease
      // (2 x provider timeout + 15 s); a presumed-dead rotating holder costs the user a reconnect.
      NEXUS_REFRESH_LEASE_MS: '120000',
    });
    const first = await startServerProcess(env);
    const replicas: ServerProcess[] = [first, ...(await Promise.all(Array.from({ length: replicaCount - 1 }, () => startServerProcess(env))))];
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const created = (await clients(first.baseUrl, ADMIN_KEY).providers.createProvider({ provider: minimalProvider(as) })).provider!;
      const seeded = as.mintRefreshTokens(N);
      await seed(db, ring, created.id, seeded);
      const presentedBefore = as.presented.length;

      // The storm: every connection becomes due at once.
      const started = performance.now();
      await db.query(`UPDATE connections SET token_expires_at = now() + interval '5 minutes' WHERE provider_id = $1`, [created.id]);
      let lastDone = -1;
      let lastProgress = Date.now();
      for (;;) {
        const { rows } = await db.query(
          `SELECT count(*) FILTER (WHERE token_expires_at > now() + interval '30 minutes' AND status = 'ACTIVE') AS done FROM connections WHERE provider_id = $1`,
          [created.id],
        );
        const done = Number(rows[0].done);
        if (done === N) break;
        if (done !== lastDone) [lastDone, lastProgress] = [done, Date.now()];
        if (Date.now() - lastProgress > 120_000) {
          const stuck = await db.query(`SELECT status, status_reason, count(*) AS n FROM connections WHERE provider_id = $1 GROUP BY 1, 2`, [created.id]);
          throw new Error(`no progress for 2 minutes at ${done}/${N}: ${JSON.stringify(stuck.rows)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const seconds = (performance.now() - started) / 1000;
      await new Promise((r) => setTimeout(r, 1_000)); // room for a duplicate to show up

      // Proof of exactly once, from the authorization server's own record.
      const presented = as.presented.slice(presentedBefore);
      const counts = new Map<string, number>();
      for (const t of presented) counts.set(t, (counts.get(t) ?? 0) + 1);
      const once = seeded.filter((t) => counts.get(t) === 1).length;
      const seededSet = new Set(seeded);
      const strays = presented.filter((t) => !seededSet.has(t) || counts.get(t)! > 1).length;
      if (presented.length !== N || once !== N || strays !== 0) {
        throw new Error(`exactly-once violated: ${presented.length} presented, ${once} of ${N} seeded tokens once, ${strays} stray`);
      }
      const claimedPerReplica = await Promise.all(replicas.map((r) => claimed(r.baseUrl)));
      return { replicas: replicaCount, seconds, rate: N / seconds, claimedPerReplica };
    } finally {
      await db.end();
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });
}

/** The AS's own ceiling: a plain HTTP client sending refresh grants at `concurrency`, no Nexus involved. */
async function ceiling(as: MinimalAuthServer, concurrency: number): Promise<number> {
  const tokens = as.mintRefreshTokens(N);
  const auth = `Basic ${Buffer.from(`${as.clientId}:${as.clientSecret}`).toString('base64')}`;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++]!;
        const res = await fetch(as.tokenUrl, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
        });
        if (res.status !== 200) throw new Error(`AS answered ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
  return N / ((performance.now() - started) / 1000);
}

const as = await MinimalAuthServer.start();
try {
  console.log(
    `refresh storm: ${N} connections due at once; ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const one = process.env.NEXUS_BENCH_STORM_SINGLE === '0' ? undefined : await storm(as, 1);
  if (one) console.log(`1 replica : ${one.seconds.toFixed(1)} s, ${one.rate.toFixed(0)} refreshes/s; each refreshed exactly once`);
  const three = await storm(as, 3);
  console.log(
    `3 replicas: ${three.seconds.toFixed(1)} s, ${three.rate.toFixed(0)} refreshes/s; each refreshed exactly once; claimed per replica ${three.claimedPerReplica.join(' / ')}`,
  );
  const raw = await ceiling(as, CONCURRENCY * 3);
  console.log(`reference : the AS alone, plain HTTP client at ${CONCURRENCY * 3} concurrent: ${raw.toFixed(0)} refreshes/s`);
  console.log(
    `ratios    : ${one ? `3 replicas / 1 replica = ${(three.rate / one.rate).toFixed(2)}; ` : ''}3 replicas / AS ceiling = ${(three.rate / raw).toFixed(2)}`,
  );
} finally {
  await as.stop();
}
