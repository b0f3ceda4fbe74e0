/**
 * The benchmark database on the system PostgreSQL: one dedicated database per
 * size, filled with filler connections by SQL (generate_series) and kept
 * between runs (re-filled only when the count differs), plus a fresh set of
 * callable connections with valid sealed OAuth tokens on every run.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { KeyRing, newId } from '../../src/crypto/index.js';
import { sealCredentials } from '../../src/domain/connections/sealed-credentials.js';
import { DEFAULT_PROJECT_ID } from '../../src/domain/shared/workspace-scope.js';
import type { TokenSet } from '../../src/domain/oauth/token-set.js';

/** A fixed key ring, so a kept database's callable rows stay readable; bench data only. */
export const BENCH_KEY_RING = `bench1:${createHash('sha256').update('nexus benchmark key').digest('base64')}`;
export const BENCH_ADMIN_KEY = 'nxs_bench_admin_key_for_the_default_project';
const PROVIDER_NAME = 'bench-oauth';
const FILLER_WORKSPACE = 'bench-filler-';
const CALLER_WORKSPACE = 'bench-callers';

/** Creates the database when missing; returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.href;
}

export interface Callable {
  id: string;
  accessToken: string;
}

/** Where seed() writes: a PostgreSQL URL, or an open session (the embedded database takes one at a time). */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Run after the server has migrated the database. */
export async function seed(target: string | Queryable, fillers: number, callable: number): Promise<Callable[]> {
  const client = typeof target === 'string' ? new pg.Client({ connectionString: target }) : undefined;
  await client?.connect();
  const db: Queryable = client ?? (target as Queryable);
  try {
    await db.query(
      `INSERT INTO providers (id, project_id, name, display_name, auth_type, oauth2)
       VALUES ($1, $2, $3, 'Benchmark OAuth', 'OAUTH2', $4)
       ON CONFLICT (project_id, name) DO NOTHING`,
      [
        newId('prv'),
        DEFAULT_PROJECT_ID,
        PROVIDER_NAME,
        JSON.stringify({
          clientId: 'bench',
          authorizationUrl: 'http://127.0.0.1:9/authorize',
          tokenUrl: 'http://127.0.0.1:9/token',
          defaultScopes: [],
          scopeSeparator: ' ',
          authorizeParams: {},
          clientAuthMethod: 'none',
        }),
      ],
    );
    const providerId = (await db.query('SELECT id FROM providers WHERE project_id = $1 AND name = $2', [DEFAULT_PROJECT_ID, PROVIDER_NAME])).rows[0]!
      .id as string;

    const have = Number((await db.query(`SELECT count(*) AS n FROM connections WHERE workspace_id LIKE '${FILLER_WORKSPACE}%'`)).rows[0]!.n);
    if (have !== fillers) {
      const started = Date.now();
      await db.query(`DELETE FROM connections WHERE workspace_id LIKE '${FILLER_WORKSPACE}%'`);
      // Random ids spread the fillers over the whole primary-key index. Their
      // sealed values are filler bytes of a realistic length (never opened);
      // no expiry, so no refresh worker ever picks them up.
      await db.query(
        `INSERT INTO connections (id, project_id, workspace_id, provider_id, status, scopes, return_url, credentials_sealed, token_expires_at)
         SELECT 'conn_F' || upper(substr(md5(i::text), 1, 25)), $1, '${FILLER_WORKSPACE}' || (i % 100000), $2,
                CASE WHEN i % 10 = 0 THEN 'REVOKED' ELSE 'ACTIVE' END, '{read}',
                'https://app.example.com/connections/return',
                'v1.filler.' || md5(i::text) || md5((i + 1)::text) || md5((i + 2)::text) || md5((i + 3)::text), NULL
         FROM generate_series(1, $3::int) AS i`,
        [DEFAULT_PROJECT_ID, providerId, fillers],
      );
      console.log(`  inserted ${fillers} filler connections in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }

    await db.query('DELETE FROM connections WHERE workspace_id = $1', [CALLER_WORKSPACE]);
    const ring = KeyRing.parse(BENCH_KEY_RING);
    const rows: Callable[] = [];
    const ids: string[] = [];
    const sealed: string[] = [];
    const expires: Date[] = [];
    for (let i = 0; i < callable; i++) {
      const id = newId('conn');
      const tokens: TokenSet = {
        accessToken: `bench-access-${i}-${id}`,
        tokenType: 'Bearer',
        refreshToken: `bench-refresh-${i}`,
        // Two hours: never due for refresh during a run.
        expiresAt: Date.now() + 2 * 3600_000,
        scopes: ['read'],
      };
      rows.push({ id, accessToken: tokens.accessToken });
      ids.push(id);
      sealed.push(sealCredentials(ring, id, tokens));
      expires.push(new Date(tokens.expiresAt!));
    }
    await db.query(
      `INSERT INTO connections (id, project_id, workspace_id, provider_id, status, scopes, return_url, credentials_sealed, token_expires_at)
       SELECT id, $1, $2, $3, 'ACTIVE', '{read}', 'https://app.example.com/connections/return', sealed, expires
       FROM unnest($4::text[], $5::text[], $6::timestamptz[]) AS t(id, sealed, expires)`,
      [DEFAULT_PROJECT_ID, CALLER_WORKSPACE, providerId, ids, sealed, expires],
    );
    await db.query('ANALYZE connections');
    return rows;
  } finally {
    await client?.end();
  }
}

/** The plans PostgreSQL picks for the lookups on GetToken's path (connection, provider, API key). */
export async function explainLookups(url: string, connectionId: string): Promise<string[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    // The shape of ConnectionRepository.findWithProvider: GetToken's one query on a cache miss.
    const queries: [string, string, unknown[]][] = [
      [
        'connection + provider',
        'SELECT c.*, p.* FROM connections c INNER JOIN providers p ON p.project_id = c.project_id AND p.id = c.provider_id WHERE c.project_id = $1 AND c.id = $2',
        [DEFAULT_PROJECT_ID, connectionId],
      ],
      ['api key', 'SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL LIMIT 1', ['0'.repeat(64)]],
    ];
    const out: string[] = [];
    for (const [label, sql, params] of queries) {
      const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, SUMMARY OFF) ${sql}`, params);
      const lines = plan.rows.map((r) => r['QUERY PLAN'] as string);
      out.push(`${label}: ${lines.map((l) => l.trim()).join(' | ')}`);
    }
    return out;
  } finally {
    await db.end();
  }
}
