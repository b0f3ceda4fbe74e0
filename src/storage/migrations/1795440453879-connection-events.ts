import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The connection event log behind WatchConnection(s): one row per status
 * change or refresh, written in the transaction that made the change. Ids
 * are the resume cursors; rows older than NEXUS_EVENT_RETENTION_HOURS are
 * pruned. No foreign key to connections: an event outlives its connection
 * (DeleteProvider with force deletes the rows it revoked).
 */
export class ConnectionEvents1795440453879 implements MigrationInterface {
  name = 'ConnectionEvents1795440453879';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connection_events (
        id bigserial PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        connection_id text NOT NULL,
        workspace_id text NOT NULL,
        provider_id text NOT NULL,
        type text NOT NULL,
        connection jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    // Replay is "this project's events after id N", in id order.
    await q.query(`CREATE INDEX connection_events_project_id_idx ON connection_events (project_id, id)`);
    // Pruning is by age.
    await q.query(`CREATE INDEX connection_events_created_at_idx ON connection_events (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE connection_events`);
  }
}
