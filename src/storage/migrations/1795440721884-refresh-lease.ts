import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh bookkeeping on connections: the write-ahead lease of the attempt in
 * flight (id, holder, start, expiry), the persisted backoff after transient
 * failures (shared by replicas, surviving restarts), and whether the
 * provider was seen rotating refresh tokens. A partial index serves the
 * background worker's "due soon" claim query.
 */
export class RefreshLease1795440721884 implements MigrationInterface {
  name = 'RefreshLease1795440721884';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE connections
        ADD COLUMN refresh_attempt_id text,
        ADD COLUMN refresh_attempt_by text,
        ADD COLUMN refresh_started_at timestamptz,
        ADD COLUMN refresh_lease_until timestamptz,
        ADD COLUMN refresh_failures integer NOT NULL DEFAULT 0,
        ADD COLUMN refresh_next_attempt_at timestamptz,
        ADD COLUMN refresh_token_rotates boolean`);
    await q.query(`
      CREATE INDEX connections_refresh_due_idx ON connections (token_expires_at)
        WHERE status = 'ACTIVE' AND token_expires_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX connections_refresh_due_idx`);
    await q.query(`
      ALTER TABLE connections
        DROP COLUMN refresh_attempt_id,
        DROP COLUMN refresh_attempt_by,
        DROP COLUMN refresh_started_at,
        DROP COLUMN refresh_lease_until,
        DROP COLUMN refresh_failures,
        DROP COLUMN refresh_next_attempt_at,
        DROP COLUMN refresh_token_rotates`);
  }
}
