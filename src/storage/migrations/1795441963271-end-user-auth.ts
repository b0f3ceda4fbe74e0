import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * End-user sign-in (docs/end-user-auth.md): OAuth clients, accounts, sessions, rotating
 * refresh tokens, one-time codes (SIWE nonces, authorization codes, handoff
 * codes) and the JWT signing keys every replica shares. Secrets, tokens and
 * codes are stored only as SHA-256 hashes; private signing keys are sealed.
 */
export class EndUserAuth1795441963271 implements MigrationInterface {
  name = 'EndUserAuth1795441963271';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE oauth_clients (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        type text NOT NULL,
        display_name text NOT NULL,
        secret_hash text,
        redirect_uris text[] NOT NULL DEFAULT '{}',
        branding jsonb NOT NULL DEFAULT '{}',
        siwe_origins text[] NOT NULL DEFAULT '{}',
        siwe_chain_ids jsonb NOT NULL DEFAULT '[]',
        handoff_ip_binding text NOT NULL DEFAULT 'STRICT',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX oauth_clients_project_id_idx ON oauth_clients (project_id, id DESC)`);
    await q.query(`
      CREATE TABLE accounts (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        address text NOT NULL,
        workspace_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_sign_in_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounts_project_address_key UNIQUE (project_id, address)
      )`);
    await q.query(`
      CREATE TABLE auth_sessions (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        client_id text NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
        kind text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoke_reason text
      )`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        session_id text NOT NULL REFERENCES auth_sessions(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`);
    await q.query(`
      CREATE TABLE one_time_codes (
        code_hash text PRIMARY KEY,
        kind text NOT NULL,
        project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        client_id text NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
        session_id text REFERENCES auth_sessions(id) ON DELETE CASCADE,
        redirect_uri text,
        code_challenge text,
        intent text,
        ip_fingerprint text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX one_time_codes_expires_idx ON one_time_codes (expires_at)`);
    await q.query(`
      CREATE TABLE signing_keys (
        id text PRIMARY KEY,
        algorithm text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE signing_keys`);
    await q.query(`DROP TABLE one_time_codes`);
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE auth_sessions`);
    await q.query(`DROP TABLE accounts`);
    await q.query(`DROP TABLE oauth_clients`);
  }
}
