import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KeyRing } from '../../crypto/index.js';
import type { ConnectionRow, RefreshState } from '../model/connection.js';
import type { ConnectionEvents, ConnectionEventTypeName } from '../connections/connection-events.js';
import { openCredentials, sealCredentials } from '../connections/sealed-credentials.js';
import { snapshotOf } from '../connections/connection-events.js';
import { enqueueRefreshFailed } from '../webhooks/events.js';
import { AttentionRequiredError, ConnectionNotFoundError, ProviderUnavailableError, REFRESH_INTERRUPTED } from '../shared/errors.js';
import type { OAuthClient } from '../oauth/oauth-client.js';
import { OAuthRejectedError } from '../oauth/oauth-errors.js';
import type { TokenSet } from '../oauth/token-set.js';
import type { ProviderService } from '../providers/provider-service.js';
import { backoffDelay } from './backoff.js';
import { NO_OBSERVER, type RefreshObserver, type RefreshOutcomeLabel, type RefreshTrigger } from './refresh-observer.js';
import { SingleFlight } from './single-flight.js';
import { isFresh, judgeLease, judgeTokens, mayRotate, usabilityError, type RefreshWant } from './refresh-decision.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { ConnectionPatch, Persistence, Tx } from '../ports/persistence.js';

/*
 * ONE refresh path for on-demand refreshes (GetToken, RefreshToken) and the
 * background worker, and ONE exclusion mechanism: a lease on the connection
 * row, written ahead of the provider call.
 *
 * An attempt has three steps:
 *
 * 1. Claim (short transaction, row lock): read the row under FOR UPDATE (the
 *    worker: FOR UPDATE SKIP LOCKED over a batch), decide, and if a refresh
 *    is needed COMMIT a marker: attempt id, holder (host:pid), start time and
 *    lease expiry. The commit happens BEFORE the refresh token is sent.
 * 2. Call the provider with NO database lock or transaction open (bounded by
 *    NEXUS_PROVIDER_TIMEOUT_MS; the lease is longer than two such calls).
 * 3. Commit the result (short transaction, row lock) only if the row still
 *    carries our attempt id: new tokens and cleared marker; or
 *    ATTENTION_REQUIRED on a rejection; or a cleared marker plus a persisted
 *    backoff (failure count, next attempt time) on a transient failure.
 *
 * Anyone who finds a live lease waits for it (in-process: on the holder's
 * promise; another replica: polling the row) and then re-decides, so
 * concurrent callers all get the one refresh's result.
 *
 * A process killed (kill -9, OOM, power loss) during step 2 leaves a marker
 * whose lease runs out. Its refresh token may or may not have reached the
 * authorization server, and if it did, the server may have rotated it and
 * the new one died with the process. Whoever next finds the expired lease
 * (the worker of any replica, or a GetToken) therefore decides by what is
 * known about the provider:
 *   - rotating (declared so by the provider's refresh_token_rotation, or
 *     undeclared and the last refresh returned a new refresh token) or
 *     unknown (undeclared and never refreshed yet): the token must not be
 *     sent again. A rotating
 *     server would answer invalid_grant at best, and at worst treat the
 *     reuse as theft and revoke the whole grant. The connection becomes
 *     ATTENTION_REQUIRED with status_reason "refresh_interrupted".
 *   - not rotating (declared "stable", or undeclared and the last refresh
 *     returned no new refresh token or the same one): the token stays valid whatever happened, so resending it
 *     is harmless; the finder takes a new lease and completes the refresh.
 * The abandoned attempt id stays on an interrupted row: if its holder was
 * only slow (not dead) and finishes after all, its conditional commit still
 * matches, stores the new tokens and makes the connection ACTIVE again.
 *
 * The guarantee: a refresh token that may rotate is sent to the
 * authorization server at most once, whatever process dies when; no stored
 * credential is ever overwritten by an older one (every result commit is
 * conditional on its attempt id); a dead holder's lease is released by
 * expiry (NEXUS_REFRESH_LEASE_MS) and the work completed by another replica
 * (non-rotating) or handed to the user (rotating, ATTENTION_REQUIRED).
 * Outside that guarantee: a timeout is treated as "not processed" and
 * retried, as the issue asks for 5xx/timeouts; a server that did process a
 * request it never answered then says invalid_grant, and the connection
 * becomes ATTENTION_REQUIRED, the same end state as a crash. Replica clocks
 * must agree to well within the lease's margin (NTP).
 */

export interface RefresherOptions {
  /** How long a claimed attempt is trusted to finish; longer than the provider's worst case. */
  leaseMs: number;
  /** Backoff after transient failures, persisted on the row. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface RefresherDeps {
  store: Persistence;
  keyRing: KeyRing;
  providers: ProviderService;
  oauth: OAuthClient;
  /** Status changes and refreshes are published in their transaction (WatchConnection(s)). */
  events: ConnectionEvents;
  options: RefresherOptions;
  observer?: RefreshObserver | undefined;
  warn?: (message: string, context: Record<string, unknown>) => void;
  /** Leases, backoffs and expiry checks read the time here (default: the system clock). */
  clock?: Clock | undefined;
}

export type RefreshOutcome = { ok: true; tokens: TokenSet } | { ok: false; error: Error };

/** An attempt whose lease this process holds: ready for the provider call. */
export interface Claim {
  row: ConnectionRow;
  tokens: TokenSet;
  attemptId: string;
  trigger: RefreshTrigger;
}

interface Want extends RefreshWant {
  trigger: RefreshTrigger;
}

type Step =
  | { kind: 'done'; outcome: RefreshOutcome }
  | { kind: 'claimed'; claim: Claim }
  | { kind: 'wait'; attemptId: string; leaseUntil: number; failures: number };

const CLEARED_LEASE: Partial<RefreshState> = {
  refreshAttemptId: null,
  refreshAttemptBy: null,
  refreshStartedAt: null,
  refreshLeaseUntil: null,
};

const done = (outcome: RefreshOutcome): Step => ({ kind: 'done', outcome });
const fail = (error: Error): RefreshOutcome => ({ ok: false, error });

export class Refresher {
  private readonly flights = new SingleFlight<RefreshOutcome>();
  /** Attempts this process holds the lease of, so local waiters need not poll. */
  private readonly running = new Map<string, Promise<RefreshOutcome>>();
  private readonly holder = `${hostname()}:${process.pid}`;
  private readonly observer: RefreshObserver;
  private readonly now: Clock;

  constructor(private readonly deps: RefresherDeps) {
    this.observer = deps.observer ?? NO_OBSERVER;
    this.now = deps.clock ?? systemClock;
  }

  /** On demand: callers in this process share one flight; other replicas' attempts are waited for. */
  async refresh(connection: ConnectionRow, margin: number, force: boolean): Promise<TokenSet> {
    const outcome = await this.flights.run(connection.id, () => this.onDemand(connection, margin, force));
    if (!outcome.ok) throw outcome.error;
    return outcome.tokens;
  }

  /**
   * The worker's claim: due connections locked with SKIP LOCKED (so replicas
   * get disjoint batches), each given a lease in the same transaction.
   * Rows that turn out to need nothing are settled here.
   */
  async claimDue(leadMs: number, limit: number): Promise<Claim[]> {
    const { store } = this.deps;
    const now = this.now();
    return store.transaction(async (tx) => {
      const rows = await store.refresh.claimDue({ dueBefore: new Date(now + leadMs), now: new Date(now), limit }, tx);
      const claims: Claim[] = [];
      for (const row of rows) {
        const want: Want = { margin: leadMs, force: false, observedUpdatedAt: row.updatedAt.getTime(), trigger: 'worker' };
        const step = await this.decide(row, row.id, want, tx);
        if (step.kind === 'claimed') {
          claims.push(step.claim);
        } else if (step.kind === 'done' && step.outcome.ok) {
          // Nothing to do yet (no refresh token, or the sealed expiry is later than the column said):
          // park the row until it can matter, so it never crowds due rows out of the next claims.
          const { expiresAt, refreshToken } = step.outcome.tokens;
          const until = expiresAt === undefined ? now + this.deps.options.backoffMaxMs : refreshToken ? expiresAt - leadMs : expiresAt;
          await store.refresh.setState(row.id, { refreshNextAttemptAt: new Date(Math.max(until, now + 1_000)) }, tx);
        } else if (step.kind === 'done' && !step.outcome.ok && !(step.outcome.error instanceof AttentionRequiredError)) {
          // e.g. credentials that no longer decrypt: nothing a retry soon would fix.
          await store.refresh.setState(row.id, { refreshNextAttemptAt: new Date(now + this.deps.options.backoffMaxMs) }, tx);
        }
      }
      return claims;
    });
  }

  /** Whether the connection's refresh token may have rotated (see mayRotate in refresh-decision.ts). */
  private async mayRotate(row: ConnectionRow, tx: Tx): Promise<boolean> {
    const declared = (await this.deps.store.providers.findById(row.projectId, row.providerId, tx))?.oauth2?.refreshTokenRotation;
    return mayRotate(declared, row.refreshTokenRotates);
  }

  /** Runs a claimed attempt: the provider call without a database lock, then the conditional commit. */
  run(claim: Claim): Promise<RefreshOutcome> {
    const promise = this.attempt(claim).finally(() => this.running.delete(claim.row.id));
    this.running.set(claim.row.id, promise);
    return promise;
  }

  private async onDemand(connection: ConnectionRow, margin: number, force: boolean): Promise<RefreshOutcome> {
    const { store } = this.deps;
    let want: Want = { margin, force, observedUpdatedAt: connection.updatedAt.getTime(), trigger: 'on_demand' };
    for (;;) {
      const step = await store.transaction(async (tx) => {
        const locked = await store.connections.findByIdForUpdate(connection.projectId, connection.id, tx);
        return this.decide(locked, connection.id, want, tx);
      });
      if (step.kind === 'done') return step.outcome;
      if (step.kind === 'claimed') return this.run(step.claim);
      await this.waitFor(connection.projectId, connection.id, step);
      want = { ...want, sawFailures: step.failures };
    }
  }

  /** Step 1, under the row lock: nothing to do, wait for the lease holder, or take the lease (see refresh-decision.ts). */
  private async decide(locked: ConnectionRow | null, id: string, want: Want, tx: Tx): Promise<Step> {
    const { store, keyRing, options } = this.deps;
    if (!locked) return done(fail(new ConnectionNotFoundError(id)));
    const lease = judgeLease(locked, this.now());
    if (lease.kind === 'unusable') return done(fail(lease.error));
    if (lease.kind === 'wait') return lease;
    if (lease.kind === 'abandoned' && (await this.mayRotate(locked, tx))) {
      await this.changeStatus(locked, 'ATTENTION_REQUIRED', { status: 'ATTENTION_REQUIRED', statusReason: REFRESH_INTERRUPTED, refreshLeaseUntil: null }, tx);
      this.observer.refreshed('interrupted', want.trigger, 0, locked);
      this.deps.warn?.('a refresh was abandoned mid-flight; its refresh token may rotate, so it is not resent', {
        connectionId: locked.id,
        attemptBy: locked.refreshAttemptBy,
      });
      return done(fail(new AttentionRequiredError(locked.id, REFRESH_INTERRUPTED)));
    }
    // Free, or abandoned but not rotating: resending the same refresh token is harmless; take over.
    let current: TokenSet;
    try {
      current = openCredentials<TokenSet>(keyRing, locked);
    } catch (err) {
      return done(fail(err as Error));
    }
    const verdict = judgeTokens(locked, current, want, this.now());
    switch (verdict.kind) {
      case 'current':
        return done({ ok: true, tokens: current });
      case 'waited-attempt-failed':
        return done(fail(new ProviderUnavailableError('refresh the token', 'the attempt this call waited for failed')));
      case 'expired-without-refresh-token':
        await this.changeStatus(locked, 'ATTENTION_REQUIRED', { status: 'ATTENTION_REQUIRED', statusReason: 'no_refresh_token' }, tx);
        this.observer.refreshed('no_refresh_token', want.trigger, 0, locked);
        return done(fail(new AttentionRequiredError(locked.id)));
      case 'refresh':
        break;
    }
    const attemptId = randomUUID();
    const now = this.now();
    const claimed: Partial<RefreshState> = {
      refreshAttemptId: attemptId,
      refreshAttemptBy: this.holder,
      refreshStartedAt: new Date(now),
      refreshLeaseUntil: new Date(now + options.leaseMs),
    };
    await store.refresh.setState(locked.id, claimed, tx);
    return { kind: 'claimed', claim: { row: { ...locked, ...claimed } as ConnectionRow, tokens: current, attemptId, trigger: want.trigger } };
  }

  /** Step 2: the provider call, outside any transaction. */
  private async attempt(claim: Claim): Promise<RefreshOutcome> {
    const { providers, oauth } = this.deps;
    const started = performance.now();
    let fresh: TokenSet;
    try {
      const provider = await providers.require(claim.row.projectId, claim.row.providerId);
      fresh = await oauth.refresh(provider, providers.clientSecret(provider), claim.tokens.refreshToken!, claim.row.fields);
    } catch (err) {
      const seconds = (performance.now() - started) / 1000;
      if (err instanceof OAuthRejectedError) return this.finishRejected(claim, err, seconds);
      return this.finishTransient(claim, err as Error, seconds);
    }
    return this.finishSuccess(claim, fresh, (performance.now() - started) / 1000);
  }

  /** Step 3, success: store the new tokens if the lease is still ours. */
  private finishSuccess(claim: Claim, fresh: TokenSet, seconds: number): Promise<RefreshOutcome> {
    const { keyRing } = this.deps;
    const old = claim.tokens;
    // A provider that does not rotate refresh tokens returns none: keep the old one.
    const merged: TokenSet = { ...fresh, refreshToken: fresh.refreshToken ?? old.refreshToken, scopes: fresh.scopes ?? old.scopes };
    const rotates = fresh.refreshToken !== undefined && fresh.refreshToken !== old.refreshToken;
    return this.finish(claim, seconds, 'success', async (locked, tx) => {
      await this.changeStatus(
        locked,
        // An interrupted connection coming back is a status change; otherwise it is a refresh.
        locked.status === 'ACTIVE' ? 'REFRESHED' : 'ACTIVE',
        {
          // An interrupted row whose holder was only slow comes back to life.
          ...(locked.status === 'ACTIVE' ? {} : { status: 'ACTIVE' as const, statusReason: '' }),
          credentialsSealed: sealCredentials(keyRing, locked.id, merged),
          tokenExpiresAt: merged.expiresAt ? new Date(merged.expiresAt) : null,
          ...CLEARED_LEASE,
          refreshFailures: 0,
          refreshNextAttemptAt: null,
          refreshTokenRotates: rotates,
        },
        tx,
      );
      return { ok: true, tokens: merged };
    });
  }

  /** Step 3, rejection (4xx): the user must reconnect; committed, never retried. */
  private finishRejected(claim: Claim, err: OAuthRejectedError, seconds: number): Promise<RefreshOutcome> {
    return this.finish(claim, seconds, 'rejected', async (locked, tx) => {
      await this.changeStatus(locked, 'ATTENTION_REQUIRED', { status: 'ATTENTION_REQUIRED', statusReason: err.error, ...CLEARED_LEASE }, tx);
      return fail(new AttentionRequiredError(locked.id));
    });
  }

  /** Step 3, transient failure: status unchanged, lease released, next worker attempt pushed back. */
  private finishTransient(claim: Claim, err: Error, seconds: number): Promise<RefreshOutcome> {
    const { options, store } = this.deps;
    return this.finish(claim, seconds, 'transient_failure', async (locked, tx) => {
      const failures = locked.refreshFailures + 1;
      const delay = backoffDelay(failures, options.backoffBaseMs, options.backoffMaxMs);
      await store.refresh.setState(locked.id, { ...CLEARED_LEASE, refreshFailures: failures, refreshNextAttemptAt: new Date(this.now() + delay) }, tx);
      // No connection event (the status stays), but webhook endpoints hear of it, in this transaction.
      const provider = await store.providers.findById(locked.projectId, locked.providerId, tx);
      await enqueueRefreshFailed(store, snapshotOf({ ...locked, providerName: provider?.name ?? '' }), claim.attemptId, new Date(this.now()), tx);
      return fail(err);
    });
  }

  /**
   * Commits an attempt's result only if the row still carries its attempt id
   * (and is ACTIVE, or interrupted by a finder who thought us dead).
   * Otherwise the connection moved on without us (deleted, reconnected, or a
   * non-rotating takeover) and the result is discarded.
   */
  private async finish(
    claim: Claim,
    seconds: number,
    outcome: RefreshOutcomeLabel,
    commit: (locked: ConnectionRow, tx: Tx) => Promise<RefreshOutcome>,
  ): Promise<RefreshOutcome> {
    const { store, keyRing } = this.deps;
    const result = await store.transaction(async (tx) => {
      const locked = await store.connections.findByIdForUpdate(claim.row.projectId, claim.row.id, tx);
      const ours =
        locked?.refreshAttemptId === claim.attemptId &&
        (locked.status === 'ACTIVE' || (locked.status === 'ATTENTION_REQUIRED' && locked.statusReason === REFRESH_INTERRUPTED));
      if (!locked || !ours) return { ours: false as const, locked };
      return { ours: true as const, outcome: await commit(locked, tx) };
    });
    if (result.ours) {
      this.observer.refreshed(outcome, claim.trigger, seconds, claim.row);
      return result.outcome;
    }
    this.observer.refreshed('superseded', claim.trigger, seconds, claim.row);
    this.deps.warn?.('a refresh result was discarded: the connection changed while the provider was answering', {
      connectionId: claim.row.id,
      outcome,
    });
    const row = result.locked;
    if (!row) return fail(new ConnectionNotFoundError(claim.row.id));
    const unusable = usabilityError(row);
    if (unusable) return fail(unusable);
    const current = openCredentials<TokenSet>(keyRing, row);
    if (isFresh(current, 0, this.now())) return { ok: true, tokens: current };
    return fail(new ProviderUnavailableError('refresh the token', 'another attempt took over'));
  }

  /** Updates the row (bumping updated_at) and publishes the event in the same transaction. */
  private async changeStatus(locked: ConnectionRow, type: ConnectionEventTypeName, patch: ConnectionPatch, tx: Tx): Promise<void> {
    const { store, events } = this.deps;
    const row = await store.connections.update(locked.projectId, locked.id, patch, tx);
    const provider = await store.providers.findById(locked.projectId, locked.providerId, tx);
    await events.publish(tx, type, { ...row, providerName: provider?.name ?? '' });
  }

  /** Waits until the attempt `step` saw has ended (or its lease has run out). */
  private async waitFor(projectId: string, id: string, step: Extract<Step, { kind: 'wait' }>): Promise<void> {
    const local = this.running.get(id);
    if (local) {
      await local;
      return;
    }
    let delay = 20;
    while (this.now() <= step.leaseUntil) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(step.leaseUntil - this.now(), 1))));
      delay = Math.min(delay * 2, 250);
      const row = await this.deps.store.connections.findById(projectId, id);
      if (!row || row.refreshAttemptId !== step.attemptId || row.status !== 'ACTIVE') return;
    }
  }
}
