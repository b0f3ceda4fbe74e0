import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Consent links bound to the person who consents (SECURITY.md, "Consent
 * links"): an OAuth state row gets its Nexus-hosted consent link (stored as
 * a SHA-256 hash), the provider URL it reveals only after the confirmation,
 * the OAuth client whose user started it (for the page's branding), the
 * hash of the browser-binding cookie and when the flow was confirmed. A
 * connection records who consented at the provider (OIDC `sub` and email).
 */
export class ConsentBinding1796084593375 implements MigrationInterface {
  name = 'ConsentBinding1796084593375';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE auth_states ADD COLUMN link_hash text`);
    await q.query(`ALTER TABLE auth_states ADD COLUMN provider_url text`);
    await q.query(`ALTER TABLE auth_states ADD COLUMN client_id text`);
    await q.query(`ALTER TABLE auth_states ADD COLUMN browser_binding_hash text`);
    await q.query(`ALTER TABLE auth_states ADD COLUMN confirmed_at timestamptz`);
    await q.query(`CREATE UNIQUE INDEX auth_states_link_hash_key ON auth_states (link_hash) WHERE link_hash IS NOT NULL`);
    await q.query(`ALTER TABLE connections ADD COLUMN provider_subject text`);
    await q.query(`ALTER TABLE connections ADD COLUMN provider_email text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections DROP COLUMN provider_email`);
    await q.query(`ALTER TABLE connections DROP COLUMN provider_subject`);
    await q.query(`DROP INDEX auth_states_link_hash_key`);
    for (const c of ['confirmed_at', 'browser_binding_hash', 'client_id', 'provider_url', 'link_hash']) {
      await q.query(`ALTER TABLE auth_states DROP COLUMN ${c}`);
    }
  }
}
