import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * project_quotas: a project's own call quotas (per API key, per client IP);
 * a NULL column falls back to the installation's NEXUS_QUOTA_* default. A
 * table of its own, so projects without overrides carry nothing.
 */
export class ProjectQuotas1796092339961 implements MigrationInterface {
  name = 'ProjectQuotas1796092339961';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE project_quotas (
        project_id text PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
        key_rate_per_second integer CHECK (key_rate_per_second >= 0),
        key_burst integer CHECK (key_burst >= 1),
        ip_rate_per_second integer CHECK (ip_rate_per_second >= 0),
        ip_burst integer CHECK (ip_burst >= 1),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE project_quotas`);
  }
}
