import { create } from '@bufbuild/protobuf';
import pg from 'pg';
import { AuthType, ClientAuthMethod, ProviderSchema, type Provider } from '../../gen/ts/nexus/v1/provider_pb.js';
import { KeyRing } from '../../src/crypto/index.js';
import type { MinimalAuthServer } from './minimal-as.js';
import { ADMIN_KEY, RETURN_URL, type Clients } from './test-app.js';
import { throughNexus, user } from './consent.js';

export const MINIMAL_PROVIDER = 'minimal-oauth';

/** An OAUTH2 provider pointing at the minimal authorization server. */
export function minimalProvider(as: MinimalAuthServer): Provider {
  return create(ProviderSchema, {
    name: MINIMAL_PROVIDER,
    displayName: 'Minimal OAuth',
    authType: AuthType.OAUTH2,
    enabled: true,
    oauth2: {
      clientId: as.clientId,
      clientSecret: as.clientSecret,
      authorizationUrl: as.authorizationUrl,
      tokenUrl: as.tokenUrl,
      clientAuthMethod: ClientAuthMethod.CLIENT_SECRET_BASIC,
    },
  });
}

/** CreateConnection, auto-consent at the minimal AS, and Nexus's callback: an ACTIVE connection's id. */
export async function connectMinimal(api: Clients, workspaceId: string): Promise<string> {
  const created = await api.connections.createConnection({
    workspaceId,
    provider: { case: 'providerName', value: MINIMAL_PROVIDER },
    returnUrl: RETURN_URL,
  });
  const consent = await fetch(await throughNexus(created.authUrl), { redirect: 'manual' });
  const callback = await user.fetch(consent.headers.get('location')!);
  const back = new URL(callback.headers.get('location')!);
  if (back.searchParams.get('status') !== 'success') throw new Error(`connect failed: ${back.href}`);
  return created.connection!.id;
}

/** Environment of a replica: shared database and key ring, a fast worker. */
export function replicaEnv(databaseUrl: string, keys: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    NEXUS_ENCRYPTION_KEYS: keys,
    NEXUS_ADMIN_API_KEY: ADMIN_KEY,
    NEXUS_ALLOWED_RETURN_URLS: 'https://app.example.com/connections/',
    LOG_LEVEL: 'warn',
    NEXUS_REFRESH_POLL_MS: '100',
    NEXUS_REFRESH_LEAD_MS: '60000',
    ...extra,
  };
}

export const newKeys = () => KeyRing.generate('rk').toSpec();

export interface RefreshRow {
  status: string;
  status_reason: string;
  token_expires_at: Date | null;
  refresh_attempt_id: string | null;
  refresh_attempt_by: string | null;
  refresh_lease_until: Date | null;
  refresh_failures: number;
  refresh_next_attempt_at: Date | null;
  refresh_token_rotates: boolean | null;
}

/** Reads connections' refresh bookkeeping straight from PostgreSQL (what replicas share). */
export async function readRows(databaseUrl: string, ids: string[]): Promise<Map<string, RefreshRow>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT id, status, status_reason, token_expires_at, refresh_attempt_id, refresh_attempt_by, refresh_lease_until,
              refresh_failures, refresh_next_attempt_at, refresh_token_rotates
         FROM connections WHERE id = ANY($1)`,
      [ids],
    );
    return new Map(rows.map((r: RefreshRow & { id: string }) => [r.id, r]));
  } finally {
    await client.end();
  }
}

export async function readRow(databaseUrl: string, id: string): Promise<RefreshRow> {
  return (await readRows(databaseUrl, [id])).get(id)!;
}

/** Polls until `check` returns a value (not undefined), or fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
