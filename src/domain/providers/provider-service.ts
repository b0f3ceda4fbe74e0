import { hashSecret, newId, open as openSealed, seal, secretMatches, type KeyRing } from '../../crypto/index.js';
import type { ProviderRow } from '../model/provider.js';
import { InvalidFieldError, ProviderAlreadyExistsError, ProviderNotFoundError } from '../shared/errors.js';
import { decodePageToken, encodePageToken, pageSize } from '../shared/page-token.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import type { Principal } from '../shared/principal.js';
import { DEFAULT_PROJECT_ID, projectFor } from '../shared/workspace-scope.js';
import { UPDATABLE_FIELDS, type ProviderInput, type UpdatableField } from './provider-input.js';
import { validateProvider } from './provider-validation.js';
import type { Persistence, Tx } from '../ports/persistence.js';
import { clientSecretAad } from '../keys/sealed-secrets.js';

export interface ProviderPage {
  providers: ProviderRow[];
  nextPageToken: string;
}

/**
 * Provider registration. Public reads see enabled providers only; an admin
 * key sees all of its project's. The client secret is sealed on write and
 * only ever opened by the OAuth client.
 */
export class ProviderService {
  constructor(
    private readonly store: Persistence,
    private readonly keyRing: KeyRing,
    private readonly allowInsecureUrls: boolean,
    /** Decides which MCP server URLs Nexus may fetch (https, public addresses, allow-list). */
    private readonly outbound: OutboundPolicy,
    /** Records in the transaction that the project's providers changed (caches everywhere drop what they built from them). */
    private readonly providersChanged: (tx: Tx, projectId: string) => Promise<void>,
  ) {}

  async list(caller: Principal | undefined, req: { projectId: string; pageSize: number; pageToken: string; category: string }): Promise<ProviderPage> {
    const projectId = projectFor(caller, req.projectId) ?? caller?.projectId ?? publicProjectId(req.projectId);
    const enabledOnly = !caller?.scopes.has('admin');
    const limit = pageSize(req.pageSize);
    const filters = { projectId, category: req.category, enabledOnly };
    const afterName = decodePageToken(req.pageToken, filters);
    const rows = await this.store.providers.list({ projectId, enabledOnly, category: req.category || undefined, afterName, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return { providers: page, nextPageToken: more ? encodePageToken(page[page.length - 1]!.name, filters) : '' };
  }

  async get(caller: Principal | undefined, projectIdParam: string, idOrName: string): Promise<ProviderRow> {
    if (!idOrName) throw new InvalidFieldError('provider', 'is required');
    const projectId = projectFor(caller, projectIdParam) ?? caller?.projectId ?? publicProjectId(projectIdParam);
    const row = await this.store.providers.findByIdOrName(projectId, idOrName);
    if (!row || (!row.enabled && !caller?.scopes.has('admin'))) throw new ProviderNotFoundError(idOrName);
    return row;
  }

  /** For internal use: any provider of the project, enabled or not. */
  async require(projectId: string, idOrName: string): Promise<ProviderRow> {
    const row = await this.store.providers.findByIdOrName(projectId, idOrName);
    if (!row) throw new ProviderNotFoundError(idOrName);
    return row;
  }

  async create(caller: Principal, input: ProviderInput): Promise<ProviderRow> {
    const valid = validateProvider(input, this.allowInsecureUrls);
    await this.checkOutbound(valid);
    const id = newId('prv');
    return this.store.transaction(async (tx) => {
      if (await this.store.providers.findByName(caller.projectId, valid.name, tx)) {
        throw new ProviderAlreadyExistsError(valid.name);
      }
      const secret = clientSecretInput(input, valid.authType);
      return this.store.providers.insert(
        {
          ...valid,
          id,
          projectId: caller.projectId,
          catalogName: input.catalogName ?? null,
          clientSecretSealed: secret ? seal(this.keyRing, secret, clientSecretAad(id)) : null,
        },
        tx,
      );
    });
  }

  async update(caller: Principal, idOrName: string, input: ProviderInput, mask: string[]): Promise<ProviderRow> {
    for (const path of mask) {
      if (!(UPDATABLE_FIELDS as readonly string[]).includes(path)) {
        throw new InvalidFieldError('update_mask', `"${path}" cannot be updated (name and auth_type are fixed)`);
      }
    }
    const existing = await this.store.providers.findByIdOrName(caller.projectId, idOrName);
    if (!existing) throw new ProviderNotFoundError(idOrName);
    // The address check resolves DNS: done before the transaction, on the merged settings.
    await this.checkOutbound(validateProvider(applyMask(toInput(existing), input, mask as UpdatableField[]), this.allowInsecureUrls));
    return this.store.transaction(async (tx) => {
      const current = await this.store.providers.findByIdOrName(caller.projectId, idOrName, tx);
      if (!current) throw new ProviderNotFoundError(idOrName);
      const merged = applyMask(toInput(current), input, mask as UpdatableField[]);
      const valid = validateProvider(merged, this.allowInsecureUrls);
      let sealed = current.clientSecretSealed;
      const block = valid.authType === 'MCP' ? 'mcp' : 'oauth2';
      const secretNamed = mask.length === 0 || mask.includes(block) || mask.includes(`${block}.client_secret`);
      const newSecret = clientSecretInput(input, valid.authType);
      if (valid.authType !== 'OAUTH2' && valid.authType !== 'MCP') sealed = null;
      else if (secretNamed && newSecret) {
        sealed = seal(this.keyRing, newSecret, clientSecretAad(current.id));
      } else if (mask.includes(`${block}.client_secret`)) {
        sealed = null; // explicitly cleared: a public client from now on
      }
      if (valid.authType === 'MCP' && JSON.stringify(valid.mcp) !== JSON.stringify(current.mcp)) {
        // Another server or client: a client registered for the old settings must not be reused.
        await this.store.clientRegistrations.deleteForProvider(current.projectId, current.id, tx);
      }
      const catalogName = input.catalogName ?? current.catalogName;
      const saved = await this.store.providers.save({ ...current, ...valid, catalogName, clientSecretSealed: sealed }, tx);
      await this.providersChanged(tx, current.projectId);
      return saved;
    });
  }

  /**
   * Deletes the provider's row (and tells every cache). Its connections are
   * the caller's business: DeleteProvider goes through ProviderRemoval
   * (connections/provider-removal.ts), which deals with them first.
   */
  async remove(projectId: string, providerId: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.store.providers.delete(projectId, providerId, tx);
      await this.providersChanged(tx, projectId);
    });
  }

  /**
   * Whether `secret` is the stored client secret, compared in constant time
   * in memory; nothing but the sealed value is ever stored. An unreadable
   * stored secret (its key left the ring) does not match.
   */
  clientSecretMatches(row: ProviderRow, secret: string): boolean {
    try {
      return secretMatches(secret, hashSecret(this.clientSecret(row)));
    } catch {
      return false;
    }
  }

  /** The client id Nexus registered dynamically for an MCP provider, or ''. */
  async registeredClientId(row: ProviderRow): Promise<string> {
    if (row.authType !== 'MCP') return '';
    return (await this.store.clientRegistrations.findLatestForProvider(row.projectId, row.id))?.clientId ?? '';
  }

  /** An MCP server URL must be one Nexus may fetch: refused here, with URL_NOT_ALLOWED, rather than at first use. */
  private async checkOutbound(valid: { authType: string; mcp: ProviderRow['mcp'] }): Promise<void> {
    if (valid.authType === 'MCP' && valid.mcp) await this.outbound.checkUrlResolved(valid.mcp.serverUrl, 'provider.mcp.server_url');
  }

  /** Opens the provider's client secret; empty for public clients. */
  clientSecret(row: ProviderRow): string {
    if (!row.clientSecretSealed) return '';
    return openSealed(this.keyRing, row.clientSecretSealed, clientSecretAad(row.id)).toString('utf8');
  }
}

function publicProjectId(requested: string): string {
  if (requested.length > 64) throw new InvalidFieldError('project_id', 'must be at most 64 characters');
  return requested || DEFAULT_PROJECT_ID;
}

function toInput(row: ProviderRow): ProviderInput {
  return {
    name: row.name,
    displayName: row.displayName,
    description: row.description,
    logoUrl: row.logoUrl,
    categories: row.categories,
    authType: row.authType,
    enabled: row.enabled,
    oauth2: row.oauth2
      ? {
          clientId: row.oauth2.clientId,
          clientSecret: '',
          authorizationUrl: row.oauth2.authorizationUrl ?? '',
          tokenUrl: row.oauth2.tokenUrl ?? '',
          revocationUrl: row.oauth2.revocationUrl ?? '',
          issuer: row.oauth2.issuer ?? '',
          expectedIssuer: row.oauth2.expectedIssuer ?? '',
          defaultScopes: row.oauth2.defaultScopes,
          scopeSeparator: row.oauth2.scopeSeparator,
          authorizeParams: row.oauth2.authorizeParams,
          clientAuthMethod: row.oauth2.clientAuthMethod,
          tokenResponseFormat: row.oauth2.tokenResponseFormat,
          tokenParams: row.oauth2.tokenParams,
          tokenResponsePaths: row.oauth2.tokenResponsePaths,
          refreshTokenRotation: row.oauth2.refreshTokenRotation,
          pkce: row.oauth2.pkce,
          userinfoUrl: row.oauth2.userinfoUrl ?? '',
          userinfoPaths: row.oauth2.userinfoPaths,
        }
      : undefined,
    credentialSchema: row.credentialSchema ?? undefined,
    postOauthFieldsSchema: row.postOauthFieldsSchema ?? undefined,
    apiKey: row.apiKey ?? undefined,
    awsSigv4: row.awsSigv4 ?? undefined,
    connectionFieldsSchema: row.connectionFieldsSchema ?? undefined,
    mcp: row.mcp ? { ...row.mcp, clientSecret: '' } : undefined,
    apiBaseUrl: row.apiBaseUrl,
  };
}

/** The write-only client secret of the block the auth type uses. */
function clientSecretInput(input: ProviderInput, authType: string): string {
  if (authType === 'OAUTH2') return input.oauth2?.clientSecret ?? '';
  if (authType === 'MCP') return input.mcp?.clientSecret ?? '';
  return '';
}

const MCP_KEYS: Record<string, keyof NonNullable<ProviderInput['mcp']>> = {
  'mcp.server_url': 'serverUrl',
  'mcp.client_id': 'clientId',
  'mcp.client_secret': 'clientSecret',
  'mcp.default_scopes': 'defaultScopes',
};

const OAUTH2_KEYS: Record<string, keyof NonNullable<ProviderInput['oauth2']>> = {
  'oauth2.client_id': 'clientId',
  'oauth2.client_secret': 'clientSecret',
  'oauth2.authorization_url': 'authorizationUrl',
  'oauth2.token_url': 'tokenUrl',
  'oauth2.revocation_url': 'revocationUrl',
  'oauth2.issuer': 'issuer',
  'oauth2.expected_issuer': 'expectedIssuer',
  'oauth2.default_scopes': 'defaultScopes',
  'oauth2.scope_separator': 'scopeSeparator',
  'oauth2.authorize_params': 'authorizeParams',
  'oauth2.client_auth_method': 'clientAuthMethod',
  'oauth2.token_response_format': 'tokenResponseFormat',
  'oauth2.token_params': 'tokenParams',
  'oauth2.token_response_paths': 'tokenResponsePaths',
  'oauth2.refresh_token_rotation': 'refreshTokenRotation',
  'oauth2.pkce': 'pkce',
  'oauth2.userinfo_url': 'userinfoUrl',
  'oauth2.userinfo_paths': 'userinfoPaths',
};

/** What a masked OAuth2 setting becomes when the request leaves it out. */
const EMPTY_OAUTH2: Record<string, unknown> = { defaultScopes: [], authorizeParams: {}, tokenParams: {}, tokenResponsePaths: {}, userinfoPaths: {} };

/** An empty mask replaces every mutable field (name and auth type stay). */
function applyMask(current: ProviderInput, input: ProviderInput, mask: UpdatableField[]): ProviderInput {
  if (mask.length === 0) return { ...input, name: current.name, authType: current.authType };
  const next: ProviderInput = {
    ...current,
    oauth2: current.oauth2 ? { ...current.oauth2 } : undefined,
    mcp: current.mcp ? { ...current.mcp } : undefined,
  };
  for (const path of mask) {
    switch (path) {
      case 'display_name':
        next.displayName = input.displayName;
        break;
      case 'description':
        next.description = input.description;
        break;
      case 'logo_url':
        next.logoUrl = input.logoUrl;
        break;
      case 'categories':
        next.categories = input.categories;
        break;
      case 'enabled':
        next.enabled = input.enabled;
        break;
      case 'oauth2':
        next.oauth2 = input.oauth2;
        break;
      case 'credential_schema':
        next.credentialSchema = input.credentialSchema;
        break;
      case 'post_oauth_fields_schema':
        next.postOauthFieldsSchema = input.postOauthFieldsSchema;
        break;
      case 'connection_fields_schema':
        next.connectionFieldsSchema = input.connectionFieldsSchema;
        break;
      case 'api_key':
        next.apiKey = input.apiKey;
        break;
      case 'aws_sigv4':
        next.awsSigv4 = input.awsSigv4;
        break;
      case 'mcp':
        next.mcp = input.mcp;
        break;
      case 'api_base_url':
        next.apiBaseUrl = input.apiBaseUrl;
        break;
      default: {
        const mcpKey = MCP_KEYS[path];
        if (mcpKey) {
          if (!next.mcp) throw new InvalidFieldError('update_mask', `"${path}" needs an MCP provider`);
          (next.mcp as unknown as Record<string, unknown>)[mcpKey] = input.mcp?.[mcpKey] ?? (mcpKey === 'defaultScopes' ? [] : '');
          break;
        }
        const key = OAUTH2_KEYS[path]!;
        if (!next.oauth2) throw new InvalidFieldError('update_mask', `"${path}" needs an OAUTH2 provider`);
        (next.oauth2 as unknown as Record<string, unknown>)[key] = input.oauth2?.[key] ?? EMPTY_OAUTH2[key] ?? '';
      }
    }
  }
  return next;
}
