import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Projects, API keys, providers, connections and single-use auth states. */
export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projects (
        id text PRIMARY KEY,
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name text NOT NULL,
        display_prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE providers (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name text NOT NULL,
        display_name text NOT NULL,
        description text NOT NULL DEFAULT '',
        logo_url text NOT NULL DEFAULT '',
        categories text[] NOT NULL DEFAULT '{}',
        auth_type text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        oauth2 jsonb,
        client_secret_sealed text,
        credential_schema jsonb,
        post_oauth_fields_schema jsonb,
        api_key jsonb,
        aws_sigv4 jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT providers_project_name_key UNIQUE (project_id, name)
      )`);
    await q.query(`
      CREATE TABLE connections (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        workspace_id text NOT NULL,
        provider_id text NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
        status text NOT NULL,
        status_reason text NOT NULL DEFAULT '',
        scopes text[] NOT NULL DEFAULT '{}',
        return_url text NOT NULL,
        fields jsonb,
        superseded_by text,
        credentials_sealed text,
        token_expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Listing is newest-first per project; ids are time-ordered, so (project, id) pages.
    await q.query(`CREATE INDEX connections_project_id_idx ON connections (project_id, id DESC)`);
    await q.query(`CREATE INDEX connections_workspace_provider_idx ON connections (project_id, workspace_id, provider_id)`);
    await q.query(`
      CREATE TABLE auth_states (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        connection_id text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        kind text NOT NULL,
        code_verifier_sealed text,
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX auth_states_expires_idx ON auth_states (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE auth_states`);
    await q.query(`DROP TABLE connections`);
    await q.query(`DROP TABLE providers`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE projects`);
  }
}
