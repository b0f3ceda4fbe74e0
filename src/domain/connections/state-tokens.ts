import {
  StateExpiredError as CryptoStateExpired,
  StateInvalidError as CryptoStateInvalid,
  signState,
  verifyState,
  type KeyRing,
  type StateClaims,
  type StateKind,
} from '../../crypto/index.js';
import type { AuthStateRow } from '../model/auth-state.js';
import { StateAlreadyUsedError, StateExpiredError, StateInvalidError } from '../shared/errors.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Persistence } from '../ports/persistence.js';

export const STATE_TTL_SECONDS = 600;

/**
 * Issues and checks state tokens. The signature proves a token came from us
 * and for which connection; the auth_states row makes it single-use and
 * expiring even if a signing key leaked.
 */
export class StateTokens {
  constructor(
    private readonly store: Persistence,
    private readonly keyRing: KeyRing,
    private readonly clock: Clock = systemClock,
  ) {}

  sign(claims: { jti: string; sub: string; prj: string; kind: StateKind }): Promise<string> {
    return signState(this.keyRing, claims, STATE_TTL_SECONDS, new Date(this.clock()));
  }

  /** Verifies the signature, then that the row exists, is unused and unexpired. Does not consume. */
  async check(token: string, kind: StateKind): Promise<{ claims: StateClaims; row: AuthStateRow }> {
    if (!token) throw new StateInvalidError();
    let claims: StateClaims;
    try {
      claims = await verifyState(this.keyRing, token, new Date(this.clock()));
    } catch (err) {
      if (err instanceof CryptoStateExpired) throw new StateExpiredError();
      if (err instanceof CryptoStateInvalid) throw new StateInvalidError();
      throw err;
    }
    if (claims.kind !== kind) throw new StateInvalidError();
    const row = await this.store.authStates.findById(claims.jti);
    if (!row || row.connectionId !== claims.sub || row.projectId !== claims.prj || row.kind !== kind) {
      throw new StateInvalidError();
    }
    if (row.consumedAt) throw new StateAlreadyUsedError();
    if (row.expiresAt.getTime() <= this.clock()) throw new StateExpiredError();
    return { claims, row };
  }
}
