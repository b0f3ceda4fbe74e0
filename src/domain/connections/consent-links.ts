import { hashSecret, randomToken, secretMatches } from '../../crypto/index.js';
import type { AuthStateRow } from '../model/auth-state.js';
import { ConsentBrowserMismatchError, ConsentLinkInvalidError, ConsentNotConfirmedError, StateAlreadyUsedError, StateExpiredError } from '../shared/errors.js';
import type { ProviderService } from '../providers/provider-service.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence } from '../ports/persistence.js';

/**
 * Consent links (SECURITY.md, "Consent links: binding a connection to the
 * person who consents"). CreateConnection hands out BASE_URL/connect/{secret}
 * instead of the provider's URL. The page there shows who is asking (the app),
 * for what (the provider, the scopes) and into which workspace, and only an
 * explicit confirmation posted from it reveals the provider URL, setting a
 * cookie that binds the flow to that browser: the OAuth callback requires it.
 * A flow started by a web session (the Manage Connections web app) is bound
 * at creation to the browser that started it instead, and skips the page.
 */
export const CONSENT_PATH = '/connect/';

const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Reads one cookie of the current request. */
export type CookieReader = (name: string) => string | undefined;

/** A cookie for the HTTP layer to set: its name, value and lifetime; attributes are the HTTP layer's. */
export interface BindingCookie {
  name: string;
  value: string;
  maxAgeSeconds: number;
}

/** What the consent page shows. Every value is escaped by the page. */
export interface ConsentView {
  /** The app asking: its OAuth client's branded name, else the project's name. */
  appName: string;
  providerName: string;
  workspaceId: string;
  scopes: string[];
  /** The provider's origin: the confirmation redirects there (the page's CSP form-action admits it). */
  providerOrigin: string;
}

export type ConsentStep = { kind: 'confirm'; view: ConsentView } | { kind: 'redirect'; providerUrl: string };

/** A fresh secret and the hash that is stored of it. */
export function newSecret(): { secret: string; hash: string } {
  const secret = randomToken(32);
  return { secret, hash: hashSecret(secret) };
}

export class ConsentLinks {
  constructor(
    private readonly store: Persistence,
    private readonly providers: ProviderService,
    /** Public BASE_URL: the links' base; https means cookies get Secure and the `__Host-` prefix (no subdomain can plant one). */
    readonly baseUrl: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.secureCookies = baseUrl.startsWith('https:');
  }

  readonly secureCookies: boolean;

  link(secret: string): string {
    return `${this.baseUrl}${CONSENT_PATH}${secret}`;
  }

  /** The cookie that binds the flow of this state to one browser. */
  bindingCookie(stateId: string, value: string, ttlSeconds: number): BindingCookie {
    return { name: this.bindingCookieName(stateId), value, maxAgeSeconds: ttlSeconds };
  }

  bindingCookieName(stateId: string): string {
    return `${this.secureCookies ? '__Host-' : ''}nexus_consent_${stateId}`;
  }

  /**
   * GET /connect/{secret}. A flow nobody confirmed yet shows the page; one
   * bound to this browser (a web-app flow, or confirmed here before) goes on
   * to the provider; any other browser is refused.
   */
  async open(secret: string, cookies: CookieReader): Promise<ConsentStep> {
    const row = await this.pending(secret);
    if (row.browserBindingHash === null) return { kind: 'confirm', view: await this.view(row) };
    this.requireBinding(row, cookies);
    // This browser holds the binding, so a concurrent confirmation by it changes nothing.
    if (!row.confirmedAt) await this.store.authStates.confirm(row.id, row.browserBindingHash, row.browserBindingHash);
    return { kind: 'redirect', providerUrl: row.providerUrl! };
  }

  /**
   * POST /connect/{secret} (the route has checked the form token): binds the
   * flow to this browser and reveals the provider URL. Posting again from the
   * browser that confirmed goes on to the provider again.
   */
  async confirm(secret: string, cookies: CookieReader): Promise<{ providerUrl: string; cookie?: BindingCookie; projectId: string; connectionId: string }> {
    const row = await this.pending(secret);
    const which = { projectId: row.projectId, connectionId: row.connectionId };
    if (row.browserBindingHash !== null) {
      this.requireBinding(row, cookies);
      return { providerUrl: row.providerUrl!, ...which };
    }
    const binding = newSecret();
    if (!(await this.store.authStates.confirm(row.id, binding.hash, null))) throw new ConsentBrowserMismatchError();
    const ttl = Math.max(1, Math.ceil((row.expiresAt.getTime() - this.clock()) / 1000));
    return { providerUrl: row.providerUrl!, cookie: this.bindingCookie(row.id, binding.secret, ttl), ...which };
  }

  /** The callback's check: confirmed, and by this browser. */
  checkCallback(row: AuthStateRow, cookies: CookieReader): void {
    if (!row.confirmedAt || row.browserBindingHash === null) throw new ConsentNotConfirmedError();
    this.requireBinding(row, cookies);
  }

  private requireBinding(row: AuthStateRow, cookies: CookieReader): void {
    const presented = cookies(this.bindingCookieName(row.id));
    if (!presented || !secretMatches(presented, row.browserBindingHash!)) throw new ConsentBrowserMismatchError();
  }

  /** The OAuth state behind a consent link, still waiting for consent. */
  private async pending(secret: string): Promise<AuthStateRow> {
    if (!SECRET_PATTERN.test(secret)) throw new ConsentLinkInvalidError();
    const row = await this.store.authStates.findByLinkHash(hashSecret(secret));
    if (!row || row.kind !== 'oauth' || !row.providerUrl) throw new ConsentLinkInvalidError();
    if (row.consumedAt) throw new StateAlreadyUsedError();
    if (row.expiresAt.getTime() <= this.clock()) throw new StateExpiredError();
    const connection = await this.store.connections.findById(row.projectId, row.connectionId);
    if (!connection || connection.status !== 'PENDING') throw new ConsentLinkInvalidError();
    return row;
  }

  private async view(row: AuthStateRow): Promise<ConsentView> {
    const connection = (await this.store.connections.findById(row.projectId, row.connectionId))!;
    const provider = await this.providers.require(row.projectId, connection.providerId);
    return {
      appName: await this.appName(row),
      providerName: provider.displayName || provider.name,
      workspaceId: connection.workspaceId,
      scopes: connection.scopes,
      providerOrigin: new URL(row.providerUrl!).origin,
    };
  }

  /** Who is asking, for a page that shows a state's flow (the consent page, the capture page). */
  async appName(row: AuthStateRow): Promise<string> {
    if (row.clientId) {
      const client = await this.store.clients.findById(row.projectId, row.clientId);
      const name = client?.branding.displayName || client?.displayName;
      if (name) return name;
    }
    const project = await this.store.projects.findById(row.projectId);
    return project?.name ?? row.projectId;
  }
}
