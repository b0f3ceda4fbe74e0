import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hashSecret, newId, pkceChallengeS256, randomToken } from '../../crypto/index.js';
import type { AuditEventInput, AuditLog } from '../audit/types.js';
import type { AccountRow } from '../model/account.js';
import type { AuthSessionRow } from '../model/auth-session.js';
import type { BrandingValue, OAuthClientRow } from '../model/oauth-client.js';
import { InvalidFieldError, ScopeMissingError, TooManyNoncesError, UnauthenticatedError } from '../shared/errors.js';
import type { Principal } from '../shared/principal.js';
import { requireScope } from '../shared/principal.js';
import {
  AuthorizationCodeInvalidError,
  HandoffCodeAlreadyUsedError,
  HandoffCodeExpiredError,
  HandoffCodeInvalidError,
  HandoffIpMismatchError,
  NonceInvalidError,
  PkceVerificationFailedError,
  RedirectUriMismatchError,
  RedirectUriNotAllowedError,
  RefreshTokenInvalidError,
  SessionNotFoundError,
  UnsupportedGrantTypeError,
} from './auth-errors.js';
import type { ClientCredentials } from './client-credentials.js';
import type { ClientRegistry } from './client-registry.js';
import { INTENT_SCOPES, parseUserScopes, USER_SCOPES } from './scopes.js';
import type { SigningKeys } from './signing-keys.js';
import type { SiwePolicy, SiweVerifier } from './siwe.js';
import { TokenVerificationError } from './signing-keys.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence, Tx } from '../ports/persistence.js';

export interface AuthSettings {
  /** BASE_URL: the default SIWE origin and the web app's base. */
  baseUrl: string;
  accessTokenTtlSeconds: number;
  /** Lifetime of a signed-in session and of its refresh tokens. */
  sessionTtlSeconds: number;
  /** Lifetime of a web session (handoff); it has no refresh token. */
  webSessionTtlSeconds: number;
  /** NEXUS_HANDOFF_IP_BINDING=relaxed turns the IP check off for every client. */
  handoffIpBindingRelaxed: boolean;
  /** NEXUS_MAX_LIVE_NONCES: unused, unexpired nonces one client may have (GetNonce is unauthenticated). */
  maxLiveNonces?: number;
}

export const NONCE_TTL_MS = 5 * 60_000;
export const AUTHORIZATION_CODE_TTL_MS = 60_000;
export const HANDOFF_CODE_TTL_MS = 30_000;
export const REFRESH_TOKEN_PREFIX = 'nxrt_';
/** Path of the Manage Connections web app under BASE_URL. */
export const WEB_APP_PATH = '/manage/';
const DEFAULT_CHAIN_IDS = [1];
/** How often one process sweeps expired codes and refresh tokens (on the unauthenticated GetNonce path, which creates rows). */
const PURGE_EVERY_MS = 10 * 60_000;

export interface IssuedTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  scopes: string[];
  session: AuthSessionRow;
  account: AccountRow;
}

export interface AuthenticateInput {
  message: string;
  signature: string;
  sessionId: string;
  scopes: string[];
  responseType: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  redirectUri: string;
}

export type AuthenticateResult =
  | ({ kind: 'token' } & IssuedTokens)
  | { kind: 'code'; code: string; session: AuthSessionRow; account: AccountRow; scopes: string[] };

export interface AccessClaims {
  sub: string;
  pid: string;
  wid: string;
  cid: string;
  sid: string;
  scope: string;
}

/**
 * End-user sign-in and its tokens. Accounts are per (project, EIP-55
 * address) with the workspace `eth:<address>`. Sessions are rows; access
 * tokens are JWTs naming their session, and every verification checks the
 * session row (no cache), so a revoked session stops its access tokens at
 * once. Refresh tokens, nonces and codes are stored as SHA-256 hashes.
 */
export class AuthService {
  constructor(
    private readonly deps: {
      store: Persistence;
      clients: ClientRegistry;
      keys: SigningKeys;
      siwe: SiweVerifier;
      settings: AuthSettings;
      /** The auth clock: token, code, nonce and session expiry; the system clock when unset. */
      clock?: Clock;
      /** Records what only the domain sees: reuse detection and revocations. */
      audit?: AuditLog;
    },
  ) {}

  /** An end-user event about a session (reuse detected, revoked): the account is read for its workspace. */
  private async auditSession(session: AuthSessionRow, event: Pick<AuditEventInput, 'action' | 'outcome' | 'reason' | 'detail'>, tx?: Tx): Promise<void> {
    if (!this.deps.audit) return;
    const account = await this.deps.store.accounts.findById(session.projectId, session.accountId, tx);
    this.deps.audit.record({
      ...event,
      projectId: session.projectId,
      actor: { kind: 'end_user', accountId: session.accountId, workspaceId: account?.workspaceId ?? '', clientId: session.clientId },
      target: { type: 'session', id: session.id },
    });
  }

  private lastPurge = 0;

  private now(): Date {
    return new Date((this.deps.clock ?? systemClock)());
  }

  /** An instant of the auth clock (token expiry) as a Date of the process clock, which timers run on. */
  private realTime(authClockMs: number): Date {
    return new Date(Date.now() + (authClockMs - this.now().getTime()));
  }

  listScopes() {
    return USER_SCOPES;
  }

  /** An alphanumeric nonce (EIP-4361), single-use, bound to the client. */
  async getNonce(clientId: string): Promise<{ nonce: string; expireTime: Date }> {
    if (!clientId) throw new InvalidFieldError('client_id', 'is required');
    const client = await this.deps.clients.find(clientId);
    const now = this.now();
    // Anyone may ask for nonces: what they can make us store is bounded per client (and per IP by the rate limit).
    const max = this.deps.settings.maxLiveNonces;
    if (max !== undefined && (await this.deps.store.oneTimeCodes.countLive('nonce', client.id, now, max)) >= max) {
      throw new TooManyNoncesError(max, 30_000);
    }
    const nonce = randomBytes(16).toString('hex');
    const expireTime = new Date(now.getTime() + NONCE_TTL_MS);
    await this.deps.store.oneTimeCodes.insert(codeRow('nonce', nonce, client, now, expireTime, {}));
    this.purgeNowAndThen();
    return { nonce, expireTime };
  }

  /** Best effort, in the background: a failed sweep is retried at the next interval. */
  private purgeNowAndThen(): void {
    const now = this.now().getTime();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    void Promise.all([this.deps.store.oneTimeCodes.purgeExpired(), this.deps.store.refreshTokens.purgeExpired()]).catch(() => undefined);
  }

  async authenticate(credentials: () => ClientCredentials, input: AuthenticateInput): Promise<AuthenticateResult> {
    const client = await this.deps.clients.authenticate(credentials);
    if (!input.message) throw new InvalidFieldError('message', 'is required');
    if (!input.signature) throw new InvalidFieldError('signature', 'is required');
    const responseType = input.responseType || 'token';
    if (responseType !== 'token' && responseType !== 'code') throw new InvalidFieldError('response_type', 'must be "token" or "code"');
    if (responseType === 'token' && client.type === 'PUBLIC') {
      throw new InvalidFieldError('response_type', 'public clients must use "code" with PKCE');
    }
    if (responseType === 'code') {
      if (!/^[A-Za-z0-9_-]{43}$/.test(input.codeChallenge)) {
        throw new InvalidFieldError('code_challenge', 'a PKCE S256 challenge (43 base64url characters) is required');
      }
      if (input.codeChallengeMethod && input.codeChallengeMethod !== 'S256') {
        throw new InvalidFieldError('code_challenge_method', 'only S256 is supported');
      }
      if (!input.redirectUri) throw new InvalidFieldError('redirect_uri', 'is required with response_type "code"');
      if (!client.redirectUris.includes(input.redirectUri)) throw new RedirectUriNotAllowedError();
    }
    const scopes = parseUserScopes(input.scopes);
    const now = this.now();
    const siwe = await this.deps.siwe.verify(input.message, input.signature, this.siwePolicy(client), now);

    const result = await this.deps.store.transaction(async (tx) => {
      await this.consumeNonce(siwe.nonce, client, now, tx);
      const account = await this.deps.store.accounts.upsert(
        { id: newId('acct'), projectId: client.projectId, address: siwe.address, workspaceId: workspaceIdOf(siwe.address) },
        now,
        tx,
      );
      const session = input.sessionId
        ? await this.continueSession(input.sessionId, client, account, scopes, now, tx)
        : await this.newSession(client, account, 'user', scopes, now, this.deps.settings.sessionTtlSeconds, tx);
      if (responseType === 'code') {
        const code = randomToken(32);
        await this.deps.store.oneTimeCodes.insert(
          codeRow('authorization_code', code, client, now, new Date(now.getTime() + AUTHORIZATION_CODE_TTL_MS), {
            sessionId: session.id,
            redirectUri: input.redirectUri,
            codeChallenge: input.codeChallenge,
          }),
          tx,
        );
        return { kind: 'code' as const, code, session, account, scopes };
      }
      return { kind: 'token' as const, ...(await this.issue(session, account, now, tx)) };
    });
    return result;
  }

  async exchangeToken(
    credentials: () => ClientCredentials,
    req: { grantType: string; code: string; redirectUri: string; codeVerifier: string; refreshToken: string },
  ): Promise<IssuedTokens> {
    const client = await this.deps.clients.authenticate(credentials);
    if (req.grantType === 'authorization_code') return this.codeGrant(client, req);
    if (req.grantType === 'refresh_token') return this.refreshGrant(client, req.refreshToken);
    throw new UnsupportedGrantTypeError();
  }

  /** RFC 7009: ends the token's session; unknown tokens and other clients' tokens change nothing. */
  async revoke(credentials: () => ClientCredentials, token: string, hint: string): Promise<void> {
    const client = await this.deps.clients.authenticate(credentials);
    if (!token) throw new InvalidFieldError('token', 'is required');
    if (hint && hint !== 'access_token' && hint !== 'refresh_token') {
      throw new InvalidFieldError('token_type_hint', 'must be "access_token" or "refresh_token"');
    }
    if (token.length > 4096) return;
    const order = hint === 'access_token' ? [this.sessionOfAccess, this.sessionOfRefresh] : [this.sessionOfRefresh, this.sessionOfAccess];
    for (const find of order) {
      const sessionId = await find.call(this, token);
      if (!sessionId) continue;
      const session = await this.deps.store.sessions.findById(sessionId);
      if (session && session.clientId === client.id) {
        await this.deps.store.sessions.revoke(session.id, 'revoked', this.now());
        await this.auditSession(session, { action: 'auth.revoke', outcome: 'success' });
      }
      return;
    }
  }

  /** The principal of a user access token; throws UNAUTHENTICATED when it is invalid, expired or its session ended. */
  async principalOf(token: string): Promise<Principal> {
    let claims: Partial<AccessClaims>;
    try {
      claims = (await this.deps.keys.verify(token)) as Partial<AccessClaims>;
    } catch (err) {
      const expired = err instanceof TokenVerificationError && err.expired;
      throw new UnauthenticatedError(expired ? 'the access token has expired; refresh it' : 'the access token is not valid');
    }
    const { sub, pid, wid, cid, sid, scope, exp } = claims as Partial<AccessClaims> & { exp?: number };
    if (![sub, pid, wid, cid, sid, scope].every((v) => typeof v === 'string')) throw new UnauthenticatedError('the access token is not valid');
    const session = await this.deps.store.sessions.findById(sid!);
    if (!session || !live(session, this.now()) || session.accountId !== sub || session.projectId !== pid) {
      throw new UnauthenticatedError('the session of this access token has ended; sign in again');
    }
    const granted = scope!.split(' ').filter((s) => session.scopes.includes(s)) as ('connections' | 'tokens')[];
    return {
      projectId: pid!,
      keyId: sid!,
      scopes: new Set(granted),
      user: { accountId: sub!, sessionId: sid!, clientId: cid!, workspaceId: wid!, webSession: session.kind === 'web' },
      ...(typeof exp === 'number' ? { expiresAt: this.realTime(Math.min(exp * 1000, session.expiresAt.getTime())) } : {}),
    };
  }

  async initHandoff(
    caller: Principal | undefined,
    req: { redirectUri: string; intent: string },
    clientIp: string,
  ): Promise<{ code: string; expireTime: Date; webAppUrl: string }> {
    if (!caller?.user) throw new UnauthenticatedError("InitHandoff needs a signed-in user's access token (Authorization: Bearer)");
    if (!req.intent) throw new InvalidFieldError('intent', 'is required');
    const scopes = INTENT_SCOPES[req.intent];
    if (!scopes) throw new InvalidFieldError('intent', 'unknown intent');
    for (const scope of scopes) requireScope(caller, scope);
    // A web session handing itself off again would outlive its own lifetime.
    if (caller.user.webSession) throw new ScopeMissingError('handoff (not available to web app sessions)');
    if (!req.redirectUri) throw new InvalidFieldError('redirect_uri', 'is required');
    const client = await this.deps.store.clients.findById(caller.projectId, caller.user.clientId);
    if (!client) throw new UnauthenticatedError('the client of this access token no longer exists');
    if (!client.redirectUris.includes(req.redirectUri)) throw new RedirectUriNotAllowedError();
    const code = randomToken(32);
    const now = this.now();
    const expireTime = new Date(now.getTime() + HANDOFF_CODE_TTL_MS);
    await this.deps.store.oneTimeCodes.insert(
      codeRow('handoff', code, client, now, expireTime, {
        sessionId: caller.user.sessionId,
        redirectUri: req.redirectUri,
        intent: req.intent,
        ipFingerprint: ipFingerprint(clientIp),
      }),
    );
    const webAppUrl = `${this.deps.settings.baseUrl}${WEB_APP_PATH}?code=${encodeURIComponent(code)}`;
    return { code, expireTime, webAppUrl };
  }

  async redeemHandoff(code: string, clientIp: string) {
    if (!code) throw new InvalidFieldError('code', 'is required');
    const now = this.now();
    const hash = hashSecret(code);
    const row = code.length <= 256 ? await this.deps.store.oneTimeCodes.findByHash('handoff', hash) : null;
    if (!row) throw new HandoffCodeInvalidError();
    if (row.usedAt) throw new HandoffCodeAlreadyUsedError();
    if (row.expiresAt.getTime() <= now.getTime()) throw new HandoffCodeExpiredError();
    const client = await this.deps.store.clients.findById(row.projectId, row.clientId);
    if (!client) throw new HandoffCodeInvalidError();
    const relaxed = this.deps.settings.handoffIpBindingRelaxed || client.handoffIpBinding === 'RELAXED';
    // An empty address is a client that could not be identified (an unparsable X-Forwarded-For hop): it matches nobody.
    if (!relaxed && (clientIp === '' || row.ipFingerprint !== ipFingerprint(clientIp))) throw new HandoffIpMismatchError();
    return this.deps.store.transaction(async (tx) => {
      if (!(await this.deps.store.oneTimeCodes.markUsed('handoff', hash, now, tx))) throw new HandoffCodeAlreadyUsedError();
      const source = row.sessionId ? await this.deps.store.sessions.findById(row.sessionId, tx) : null;
      if (!source || !live(source, now)) throw new SessionNotFoundError('unauthenticated');
      const account = (await this.deps.store.accounts.findById(row.projectId, source.accountId, tx))!;
      const scopes = INTENT_SCOPES[row.intent ?? ''] ?? [];
      const ttl = this.deps.settings.webSessionTtlSeconds;
      const session = await this.newSession(client, account, 'web', scopes, now, ttl, tx);
      const accessToken = await this.sign(session, account, ttl);
      const project = await this.deps.store.projects.findById(row.projectId, tx);
      return {
        accessToken,
        expireTime: new Date(now.getTime() + ttl * 1000),
        scopes,
        account,
        client,
        branding: effectiveBranding(client, project?.branding ?? {}),
        redirectUri: row.redirectUri ?? '',
        intent: row.intent ?? '',
      };
    });
  }

  private siwePolicy(client: OAuthClientRow): SiwePolicy {
    return {
      origins: client.siweOrigins.length > 0 ? client.siweOrigins : [new URL(this.deps.settings.baseUrl).origin],
      chainIds: client.siweChainIds.length > 0 ? client.siweChainIds : DEFAULT_CHAIN_IDS,
    };
  }

  private async consumeNonce(nonce: string, client: OAuthClientRow, now: Date, tx: Tx): Promise<void> {
    const hash = hashSecret(nonce);
    const row = await this.deps.store.oneTimeCodes.findByHash('nonce', hash, tx);
    if (!row || row.clientId !== client.id) throw new NonceInvalidError('was not issued for this client');
    if (row.usedAt) throw new NonceInvalidError('was already used');
    if (row.expiresAt.getTime() <= now.getTime()) throw new NonceInvalidError('has expired');
    if (!(await this.deps.store.oneTimeCodes.markUsed('nonce', hash, now, tx))) throw new NonceInvalidError('was already used');
  }

  private async continueSession(id: string, client: OAuthClientRow, account: AccountRow, scopes: string[], now: Date, tx: Tx): Promise<AuthSessionRow> {
    const session = id.length <= 64 ? await this.deps.store.sessions.findByIdForUpdate(id, tx) : null;
    if (!session || session.kind !== 'user' || session.clientId !== client.id || session.accountId !== account.id || !live(session, now)) {
      throw new SessionNotFoundError();
    }
    await this.deps.store.sessions.updateScopes(session.id, scopes, tx);
    return { ...session, scopes };
  }

  private newSession(
    client: OAuthClientRow,
    account: AccountRow,
    kind: 'user' | 'web',
    scopes: string[],
    now: Date,
    ttlSeconds: number,
    tx: Tx,
  ): Promise<AuthSessionRow> {
    return this.deps.store.sessions.insert(
      {
        id: newId('ses'),
        projectId: client.projectId,
        accountId: account.id,
        clientId: client.id,
        kind,
        scopes,
        expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
      },
      tx,
    );
  }

  /** A new access token and a new refresh token for the session. */
  private async issue(session: AuthSessionRow, account: AccountRow, now: Date, tx: Tx): Promise<IssuedTokens> {
    const refreshToken = REFRESH_TOKEN_PREFIX + randomToken(32);
    await this.deps.store.refreshTokens.insert({ tokenHash: hashSecret(refreshToken), sessionId: session.id, expiresAt: session.expiresAt }, tx);
    const ttl = this.deps.settings.accessTokenTtlSeconds;
    return { accessToken: await this.sign(session, account, ttl), expiresIn: ttl, refreshToken, scopes: session.scopes, session, account };
  }

  private sign(session: AuthSessionRow, account: AccountRow, ttlSeconds: number): Promise<string> {
    const claims: AccessClaims & { jti: string } = {
      sub: account.id,
      pid: session.projectId,
      wid: account.workspaceId,
      cid: session.clientId,
      sid: session.id,
      scope: session.scopes.join(' '),
      jti: randomToken(16),
    };
    return this.deps.keys.sign({ ...claims }, ttlSeconds);
  }

  private async codeGrant(client: OAuthClientRow, req: { code: string; redirectUri: string; codeVerifier: string }): Promise<IssuedTokens> {
    if (!req.code) throw new InvalidFieldError('code', 'is required for the authorization_code grant');
    if (!req.redirectUri) throw new InvalidFieldError('redirect_uri', 'is required for the authorization_code grant');
    if (!req.codeVerifier) throw new InvalidFieldError('code_verifier', 'is required for the authorization_code grant');
    const now = this.now();
    const hash = hashSecret(req.code);
    const row = req.code.length <= 256 ? await this.deps.store.oneTimeCodes.findByHash('authorization_code', hash) : null;
    if (!row || row.clientId !== client.id) throw new AuthorizationCodeInvalidError('is not valid');
    if (row.usedAt) {
      // RFC 6749 4.1.2: a code used twice may have been stolen; end what it issued.
      if (row.sessionId) {
        await this.deps.store.sessions.revoke(row.sessionId, 'authorization_code_reused', now);
        const session = await this.deps.store.sessions.findById(row.sessionId);
        if (session) {
          await this.auditSession(session, {
            action: 'auth.code_reuse',
            outcome: 'denied',
            reason: 'AUTHORIZATION_CODE_INVALID',
            detail: { session_revoked: true },
          });
        }
      }
      throw new AuthorizationCodeInvalidError('was already used');
    }
    if (row.expiresAt.getTime() <= now.getTime()) throw new AuthorizationCodeInvalidError('has expired');
    if (row.redirectUri !== req.redirectUri) throw new RedirectUriMismatchError();
    if (!pkceMatches(req.codeVerifier, row.codeChallenge ?? '')) throw new PkceVerificationFailedError();
    return this.deps.store.transaction(async (tx) => {
      if (!(await this.deps.store.oneTimeCodes.markUsed('authorization_code', hash, now, tx))) {
        throw new AuthorizationCodeInvalidError('was already used');
      }
      const session = await this.deps.store.sessions.findById(row.sessionId!, tx);
      if (!session || !live(session, now)) throw new AuthorizationCodeInvalidError('belongs to a session that has ended');
      const account = (await this.deps.store.accounts.findById(session.projectId, session.accountId, tx))!;
      return this.issue(session, account, now, tx);
    });
  }

  private async refreshGrant(client: OAuthClientRow, token: string): Promise<IssuedTokens> {
    if (!token) throw new InvalidFieldError('refresh_token', 'is required for the refresh_token grant');
    const now = this.now();
    const hash = hashSecret(token);
    const outcome = await this.deps.store.transaction(async (tx) => {
      const row = token.length <= 256 ? await this.deps.store.refreshTokens.findByHash(hash, tx) : null;
      if (!row) return { error: 'is not valid' };
      // The session row lock serializes rotations of one session across replicas.
      const session = await this.deps.store.sessions.findByIdForUpdate(row.sessionId, tx);
      if (!session || session.clientId !== client.id) return { error: 'is not valid' };
      if (!live(session, now)) return { error: 'belongs to a session that has ended' };
      if (row.usedAt) {
        // Reuse detection: a rotated-away token came back, so one of the two
        // holders is not the user. End the whole session.
        await this.deps.store.sessions.revoke(session.id, 'refresh_token_reused', now, tx);
        await this.auditSession(
          session,
          { action: 'auth.refresh_token_reuse', outcome: 'denied', reason: 'REFRESH_TOKEN_INVALID', detail: { session_revoked: true } },
          tx,
        );
        return { error: 'was already used; the session has been revoked' };
      }
      if (row.expiresAt.getTime() <= now.getTime()) return { error: 'has expired' };
      if (!(await this.deps.store.refreshTokens.markUsed(hash, now, tx))) return { error: 'was already used' };
      const account = (await this.deps.store.accounts.findById(session.projectId, session.accountId, tx))!;
      return { tokens: await this.issue(session, account, now, tx) };
    });
    // Thrown after the transaction so the reuse revocation commits.
    if ('error' in outcome) throw new RefreshTokenInvalidError(outcome.error!);
    return outcome.tokens;
  }

  private async sessionOfRefresh(token: string): Promise<string | undefined> {
    return (await this.deps.store.refreshTokens.findByHash(hashSecret(token)))?.sessionId;
  }

  private async sessionOfAccess(token: string): Promise<string | undefined> {
    try {
      const claims = await this.deps.keys.verify(token);
      return typeof claims.sid === 'string' ? claims.sid : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Each account's connections live in the workspace `eth:<EIP-55 address>`. */
export function workspaceIdOf(address: string): string {
  return `eth:${address}`;
}

/** Stored instead of the IP itself: enough to compare, nothing to leak. */
export function ipFingerprint(ip: string): string {
  return hashSecret(`handoff-ip:${ip}`);
}

function live(session: AuthSessionRow, now: Date): boolean {
  return session.revokedAt === null && session.expiresAt.getTime() > now.getTime();
}

function pkceMatches(verifier: string, challenge: string): boolean {
  let computed: string;
  try {
    computed = pkceChallengeS256(verifier);
  } catch {
    return false;
  }
  const a = Buffer.from(computed);
  const b = Buffer.from(challenge);
  return a.length === b.length && timingSafeEqual(a, b);
}

function codeRow(
  kind: 'nonce' | 'authorization_code' | 'handoff',
  code: string,
  client: OAuthClientRow,
  now: Date,
  expiresAt: Date,
  extra: { sessionId?: string; redirectUri?: string; codeChallenge?: string; intent?: string; ipFingerprint?: string },
) {
  return {
    codeHash: hashSecret(code),
    kind,
    projectId: client.projectId,
    clientId: client.id,
    sessionId: extra.sessionId ?? null,
    redirectUri: extra.redirectUri ?? null,
    codeChallenge: extra.codeChallenge ?? null,
    intent: extra.intent ?? null,
    ipFingerprint: extra.ipFingerprint ?? null,
    createdAt: now,
    expiresAt,
  };
}

/** The web app's branding: the client's own, each field falling back to its project's default (the name, last, to the client's display name). */
export function effectiveBranding(client: OAuthClientRow, project: BrandingValue): Required<BrandingValue> {
  return {
    displayName: client.branding.displayName || project.displayName || client.displayName,
    logoUrl: client.branding.logoUrl || project.logoUrl || '',
    accentColor: client.branding.accentColor || project.accentColor || '',
  };
}
