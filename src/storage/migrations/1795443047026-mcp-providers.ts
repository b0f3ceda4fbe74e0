import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MCP catalog entries: the providers.mcp settings column, and the OAuth
 * clients Nexus registered dynamically (RFC 7591) at an MCP server's
 * authorization server, one per provider and authorization server, reused
 * by every later connection.
 */
export class McpProviders1795443047026 implements MigrationInterface {
  name = 'McpProviders1795443047026';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers ADD COLUMN mcp jsonb`);
    await q.query(`
      CREATE TABLE oauth_client_registrations (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        provider_id text NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
        issuer text NOT NULL,
        redirect_uri text NOT NULL,
        client_id text NOT NULL,
        client_secret_sealed text,
        client_secret_expires_at timestamptz,
        token_endpoint_auth_method text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT oauth_client_registrations_provider_issuer_key UNIQUE (provider_id, issuer, redirect_uri)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE oauth_client_registrations`);
    await q.query(`ALTER TABLE providers DROP COLUMN mcp`);
  }
}
