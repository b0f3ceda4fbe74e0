import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-project settings (display name, return URLs, CORS origins, branding),
 * API key expiry and last use, and the `operator` scope for the
 * installation's own admin keys (NEXUS_ADMIN_API_KEY and the key generated on
 * the first start), which managed every project before it existed.
 */
export class ProjectSettingsAndKeyLifecycle1796093588760 implements MigrationInterface {
  name = 'ProjectSettingsAndKeyLifecycle1796093588760';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects ADD COLUMN display_name text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE projects ADD COLUMN allowed_return_urls text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE projects ADD COLUMN cors_origins text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE projects ADD COLUMN branding jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE projects ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN expires_at timestamptz`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz`);
    await q.query(
      `UPDATE api_keys SET scopes = array_append(scopes, 'operator')
        WHERE project_id = 'prj_default' AND name IN ('NEXUS_ADMIN_API_KEY', 'generated admin key')
          AND revoked_at IS NULL AND 'admin' = ANY(scopes) AND NOT ('operator' = ANY(scopes))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE api_keys SET scopes = array_remove(scopes, 'operator')`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN last_used_at`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN expires_at`);
    for (const column of ['updated_at', 'branding', 'cors_origins', 'allowed_return_urls', 'display_name']) {
      await q.query(`ALTER TABLE projects DROP COLUMN ${column}`);
    }
  }
}
