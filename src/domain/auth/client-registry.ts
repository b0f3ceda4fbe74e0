import { hashSecret, isId, newId, randomToken, secretMatches } from '../../crypto/index.js';
import type { OAuthClientRow } from '../model/oauth-client.js';
import { echo, InvalidFieldError } from '../shared/errors.js';
import { decodePageToken, encodePageToken, pageSize } from '../shared/page-token.js';
import type { Principal } from '../shared/principal.js';
import { ClientAuthenticationFailedError, ClientNotFoundError } from './auth-errors.js';
import { MalformedClientCredentials, type ClientCredentials } from './client-credentials.js';
import { validateClient, type ClientInput } from './client-validation.js';
import type { OAuthClientPatch, Persistence } from '../ports/persistence.js';

export const CLIENT_SECRET_PREFIX = 'nxcs_';
// Compared against when the client id is unknown, so both paths hash once.
const DUMMY_HASH = hashSecret('no such client');

/** The paths UpdateClient changes. */
export const CLIENT_MASK_FIELDS = ['display_name', 'redirect_uris', 'branding', 'siwe_origins', 'siwe_chain_ids', 'handoff_ip_binding'] as const;
const MASK_FIELDS: Record<string, keyof ReturnType<typeof validateClient>> = {
  display_name: 'displayName',
  redirect_uris: 'redirectUris',
  branding: 'branding',
  siwe_origins: 'siweOrigins',
  siwe_chain_ids: 'siweChainIds',
  handoff_ip_binding: 'handoffIpBinding',
};

/** A project's OAuth clients: admin CRUD, and client authentication for AuthService. */
export class ClientRegistry {
  constructor(
    private readonly store: Persistence,
    private readonly allowInsecureUrls: boolean,
  ) {}

  async create(caller: Principal, input: ClientInput): Promise<{ client: OAuthClientRow; secret: string }> {
    if (!input.type) throw new InvalidFieldError('client.type', 'is required (CONFIDENTIAL or PUBLIC)');
    const valid = validateClient(input, this.allowInsecureUrls);
    const secret = input.type === 'CONFIDENTIAL' ? CLIENT_SECRET_PREFIX + randomToken(32) : '';
    const client = await this.store.clients.insert({
      id: newId('cli'),
      projectId: caller.projectId,
      type: input.type,
      secretHash: secret ? hashSecret(secret) : null,
      ...valid,
    });
    return { client, secret };
  }

  async get(caller: Principal, id: string): Promise<OAuthClientRow> {
    if (!id) throw new InvalidFieldError('client_id', 'is required');
    const row = isId('cli', id) ? await this.store.clients.findById(caller.projectId, id) : null;
    if (!row) throw new ClientNotFoundError(id);
    return row;
  }

  async list(caller: Principal, req: { pageSize: number; pageToken: string }): Promise<{ clients: OAuthClientRow[]; nextPageToken: string }> {
    const limit = pageSize(req.pageSize);
    const filters = { p: caller.projectId };
    const beforeId = decodePageToken(req.pageToken, filters);
    const rows = await this.store.clients.list({ projectId: caller.projectId, beforeId, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { clients: page, nextPageToken: rows.length > limit ? encodePageToken(page[page.length - 1]!.id, filters) : '' };
  }

  async update(caller: Principal, id: string, input: ClientInput, mask: string[]): Promise<OAuthClientRow> {
    const current = await this.get(caller, id);
    if (input.type && input.type !== current.type) throw new InvalidFieldError('client.type', 'cannot change');
    for (const p of mask) if (!MASK_FIELDS[p]) throw new InvalidFieldError('update_mask', `"${echo(p)}" cannot be updated`);
    // The transport derives the paths (AIP-134: the fields the request sets when it names none); none changes nothing.
    if (mask.length === 0) return current;
    const paths = mask;
    // Merge first, validate the result: a partial update must leave a valid client.
    const merged: ClientInput = {
      type: current.type,
      displayName: paths.includes('display_name') ? input.displayName : current.displayName,
      redirectUris: paths.includes('redirect_uris') ? input.redirectUris : current.redirectUris,
      branding: paths.includes('branding') ? input.branding : current.branding,
      siweOrigins: paths.includes('siwe_origins') ? input.siweOrigins : current.siweOrigins,
      siweChainIds: paths.includes('siwe_chain_ids') ? input.siweChainIds : current.siweChainIds,
      handoffIpBinding: paths.includes('handoff_ip_binding') ? input.handoffIpBinding : current.handoffIpBinding,
    };
    const valid = validateClient(merged, this.allowInsecureUrls);
    const patch: OAuthClientPatch = {};
    for (const p of paths) Object.assign(patch, { [MASK_FIELDS[p]!]: valid[MASK_FIELDS[p]!] });
    return (await this.store.clients.update(caller.projectId, id, patch))!;
  }

  async delete(caller: Principal, id: string): Promise<void> {
    await this.get(caller, id);
    await this.store.clients.delete(caller.projectId, id);
  }

  /**
   * Authenticates a client: a confidential one by its secret (constant-time
   * hash comparison), a public one by its id alone (and it must not send a
   * secret). Every failure looks the same to the caller.
   */
  async authenticate(credentials: () => ClientCredentials): Promise<OAuthClientRow> {
    let creds: ClientCredentials;
    try {
      creds = credentials();
    } catch (err) {
      if (err instanceof MalformedClientCredentials) throw new ClientAuthenticationFailedError();
      throw err;
    }
    if (!creds.clientId || creds.clientId.length > 100 || creds.clientSecret.length > 512) throw new ClientAuthenticationFailedError();
    const row = isId('cli', creds.clientId) ? await this.store.clients.findAnyById(creds.clientId) : null;
    if (!row) {
      secretMatches(creds.clientSecret, DUMMY_HASH);
      throw new ClientAuthenticationFailedError();
    }
    if (row.type === 'PUBLIC') {
      if (creds.clientSecret) throw new ClientAuthenticationFailedError();
      return row;
    }
    if (!row.secretHash || !secretMatches(creds.clientSecret, row.secretHash)) throw new ClientAuthenticationFailedError();
    return row;
  }

  /** By id only, for calls that name a client but need no secret (GetNonce). */
  async find(id: string): Promise<OAuthClientRow> {
    const row = id && isId('cli', id) ? await this.store.clients.findAnyById(id) : null;
    if (!row) throw new ClientAuthenticationFailedError();
    return row;
  }
}
