import type { ConnectionEvents, CredentialRevocation } from './connection-events.js';
import { NexusError, UnauthenticatedError } from '../shared/errors.js';
import type { Principal } from '../shared/principal.js';

export interface StreamCredentialOptions {
  /** How often an open stream's credential is checked again in full (the safety net behind revocation notices). */
  recheckMs: number;
}

/** setTimeout's longest delay; a later expiry is left to the periodic check. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Ends server streams whose credential ends. A stream authenticates once,
 * when it opens; without this, a revoked API key, a revoked session or an
 * expired access token kept receiving events for as long as the stream
 * stayed open. Each stream's credential is watched three ways:
 *
 * - revocation notices (any replica, at commit) naming its key or session
 *   end it at once;
 * - an access token's expiry ends it when the token expires;
 * - every `recheckMs`, and whenever notices may have been missed (the
 *   listening session was lost), the credential is verified again from
 *   scratch, which also catches a session that expired or lost the scope.
 *
 * A recheck that fails for another reason (the database is briefly down)
 * leaves the stream open; the next recheck decides.
 */
export class StreamCredentials {
  constructor(
    private readonly events: ConnectionEvents,
    private readonly options: StreamCredentialOptions,
  ) {}

  /** Starts watching one stream's credential; `recheck` re-authenticates the stream's request and throws when it no longer may watch. */
  guard(caller: Principal, recheck: () => Promise<unknown>): CredentialGuard {
    return new CredentialGuard(this.events, caller, recheck, this.options.recheckMs);
  }
}

export class CredentialGuard {
  private readonly controller = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly stopHearing: () => void;
  private checking = false;
  /** Why the stream must end, once it must. */
  ended: NexusError | undefined;

  constructor(
    events: ConnectionEvents,
    private readonly caller: Principal,
    private readonly recheck: () => Promise<unknown>,
    recheckMs: number,
  ) {
    this.stopHearing = events.onCredentialRevoked((revocation) => this.heard(revocation));
    const interval = setInterval(() => void this.check(), recheckMs);
    interval.unref();
    this.timers.push(interval);
    const expiresInMs = caller.expiresAt === undefined ? undefined : caller.expiresAt.getTime() - Date.now();
    if (expiresInMs !== undefined && expiresInMs <= MAX_TIMER_MS) {
      const expiry = setTimeout(() => this.end(new UnauthenticatedError('the access token has expired; refresh it and watch again')), Math.max(0, expiresInMs));
      expiry.unref();
      this.timers.push(expiry);
    }
  }

  /** Aborted when the credential ends: pass it (with the request's own signal) to the stream. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.length = 0;
    this.stopHearing();
  }

  private heard(revocation: CredentialRevocation): void {
    if (revocation === undefined) {
      void this.check();
    } else if (revocation.credentialId === this.caller.keyId && revocation.projectId === this.caller.projectId) {
      const what = this.caller.user ? 'the session of this access token was revoked' : 'this API key was revoked';
      this.end(new UnauthenticatedError(`${what}; the stream has ended`));
    }
  }

  private async check(): Promise<void> {
    if (this.checking || this.ended) return;
    this.checking = true;
    try {
      await this.recheck();
    } catch (err) {
      // Only a verdict on the credential ends the stream; an outage does not.
      if (err instanceof NexusError && (err.kind === 'unauthenticated' || err.kind === 'permission_denied')) this.end(err);
    } finally {
      this.checking = false;
    }
  }

  private end(reason: NexusError): void {
    if (this.ended) return;
    this.ended = reason;
    this.close();
    this.controller.abort();
  }
}
