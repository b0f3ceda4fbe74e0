import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (src/domain/audit/): one append-only, hash-chained sequence
 * of events per project, and one chain head per project (the last seq and
 * hash written, and the anchor left by pruning). No foreign key to
 * projects: the record of a project outlives it.
 *
 * A trigger refuses UPDATE of an event always, and DELETE unless the
 * transaction set nexus.audit_prune (retention pruning does, with the chain
 * head locked). It does not stop an attacker with the database owner's
 * rights (who can drop it); the hash chain and `nexus audit verify` are what
 * detect that. It stops a bug or an injected statement in the application.
 */
export class AuditLog1796090000000 implements MigrationInterface {
  name = 'AuditLog1796090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        project_id text NOT NULL,
        seq bigint NOT NULL,
        time timestamptz NOT NULL,
        actor_kind text NOT NULL,
        actor_id text NOT NULL,
        actor_workspace text NOT NULL DEFAULT '',
        actor_client text NOT NULL DEFAULT '',
        action text NOT NULL,
        target_type text NOT NULL DEFAULT '',
        target_id text NOT NULL DEFAULT '',
        outcome text NOT NULL,
        reason text NOT NULL DEFAULT '',
        client_ip text NOT NULL DEFAULT '',
        request_id text NOT NULL DEFAULT '',
        detail jsonb NOT NULL DEFAULT '{}',
        prev_hash text NOT NULL,
        hash text NOT NULL,
        PRIMARY KEY (project_id, seq)
      )`);
    // Time-range queries and pruning.
    await q.query(`CREATE INDEX audit_events_project_time_idx ON audit_events (project_id, time)`);
    // "Who read this connection's token": by target.
    await q.query(`CREATE INDEX audit_events_project_target_idx ON audit_events (project_id, target_id, seq)`);
    await q.query(`
      CREATE TABLE audit_chain_heads (
        project_id text PRIMARY KEY,
        seq bigint NOT NULL DEFAULT 0,
        hash text NOT NULL DEFAULT '',
        anchor_seq bigint NOT NULL DEFAULT 0,
        anchor_hash text NOT NULL DEFAULT ''
      )`);
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('nexus.audit_prune', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_chain_heads`);
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
  }
}
