import { describe, expect, it } from 'vitest';
import { AttentionRequiredError, ConnectionNotActiveError } from '../../../src/domain/shared/errors.js';
import type { TokenSet } from '../../../src/domain/oauth/token-set.js';
import { isFresh, judgeLease, judgeTokens, mayRotate, type RefreshFacts, type RefreshWant } from '../../../src/domain/tokens/refresh-decision.js';

// The refresh decision as a table: every row is one situation a GetToken,
// a RefreshToken or the background worker can find under the row lock.
const NOW = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;

function row(over: Partial<RefreshFacts> = {}): RefreshFacts {
  return {
    id: 'con_1',
    status: 'ACTIVE',
    statusReason: '',
    credentialsSealed: 'sealed',
    refreshAttemptId: null,
    refreshLeaseUntil: null,
    refreshFailures: 0,
    updatedAt: new Date(NOW - 10 * MIN),
    ...over,
  };
}

function tokens(over: Partial<TokenSet> = {}): TokenSet {
  return { accessToken: 'at', tokenType: 'Bearer', refreshToken: 'rt', expiresAt: NOW + 30 * MIN, ...over };
}

const getToken = (margin = MIN): RefreshWant => ({ margin, force: false, observedUpdatedAt: NOW - 10 * MIN });
const forced = (observedUpdatedAt = NOW - 10 * MIN): RefreshWant => ({ margin: MIN, force: true, observedUpdatedAt });

describe('judgeLease', () => {
  const cases: { name: string; row: RefreshFacts; kind: string; error?: unknown }[] = [
    { name: 'active, no attempt', row: row(), kind: 'free' },
    { name: 'live lease of another attempt', row: row({ refreshAttemptId: 'a1', refreshLeaseUntil: new Date(NOW + 1) }), kind: 'wait' },
    { name: 'lease ending exactly now', row: row({ refreshAttemptId: 'a1', refreshLeaseUntil: new Date(NOW) }), kind: 'abandoned' },
    { name: 'lease ran out', row: row({ refreshAttemptId: 'a1', refreshLeaseUntil: new Date(NOW - MIN) }), kind: 'abandoned' },
    { name: 'attempt without a lease time', row: row({ refreshAttemptId: 'a1' }), kind: 'abandoned' },
    { name: 'ATTENTION_REQUIRED', row: row({ status: 'ATTENTION_REQUIRED', statusReason: 'invalid_grant' }), kind: 'unusable', error: AttentionRequiredError },
    {
      name: 'ATTENTION_REQUIRED with a live lease (interrupted holder still out)',
      row: row({ status: 'ATTENTION_REQUIRED', refreshAttemptId: 'a1', refreshLeaseUntil: new Date(NOW + MIN) }),
      kind: 'unusable',
      error: AttentionRequiredError,
    },
    { name: 'PENDING', row: row({ status: 'PENDING', credentialsSealed: null }), kind: 'unusable', error: ConnectionNotActiveError },
    { name: 'REVOKED', row: row({ status: 'REVOKED' }), kind: 'unusable', error: ConnectionNotActiveError },
    { name: 'FAILED', row: row({ status: 'FAILED' }), kind: 'unusable', error: ConnectionNotActiveError },
    { name: 'ACTIVE but credentials erased', row: row({ credentialsSealed: null }), kind: 'unusable', error: ConnectionNotActiveError },
  ];
  it.each(cases)('$name -> $kind', ({ row: r, kind, error }) => {
    const verdict = judgeLease(r, NOW);
    expect(verdict.kind).toBe(kind);
    if (error) expect(verdict.kind === 'unusable' && verdict.error).toBeInstanceOf(error);
  });

  it('a wait carries the attempt, its lease end and the failure count seen', () => {
    const verdict = judgeLease(row({ refreshAttemptId: 'a1', refreshLeaseUntil: new Date(NOW + 5_000), refreshFailures: 2 }), NOW);
    expect(verdict).toEqual({ kind: 'wait', attemptId: 'a1', leaseUntil: NOW + 5_000, failures: 2 });
  });

  it('an interrupted refresh is told apart from a rejected one', () => {
    const interrupted = judgeLease(row({ status: 'ATTENTION_REQUIRED', statusReason: 'refresh_interrupted' }), NOW);
    const rejected = judgeLease(row({ status: 'ATTENTION_REQUIRED', statusReason: 'invalid_grant' }), NOW);
    expect(interrupted.kind === 'unusable' && interrupted.error.message).toContain('interrupted');
    expect(rejected.kind === 'unusable' && rejected.error.message).toContain('rejected');
  });
});

describe('mayRotate (an abandoned attempt: resend or hand to the user)', () => {
  const cases = [
    { declared: 'rotates', last: false, rotates: true },
    { declared: 'rotates', last: null, rotates: true },
    { declared: 'stable', last: true, rotates: false },
    { declared: 'stable', last: null, rotates: false },
    { declared: undefined, last: true, rotates: true },
    { declared: undefined, last: false, rotates: false },
    { declared: undefined, last: null, rotates: true },
  ] as const;
  it.each(cases)('declared $declared, last refresh rotated $last -> $rotates', ({ declared, last, rotates }) => {
    expect(mayRotate(declared, last)).toBe(rotates);
  });
});

describe('judgeTokens', () => {
  const cases: { name: string; row?: RefreshFacts; tokens: TokenSet; want: RefreshWant; kind: string }[] = [
    { name: 'fresh beyond the margin', tokens: tokens(), want: getToken(), kind: 'current' },
    { name: 'expiring within the margin', tokens: tokens({ expiresAt: NOW + 30_000 }), want: getToken(), kind: 'refresh' },
    { name: 'expiring exactly at the margin', tokens: tokens({ expiresAt: NOW + MIN }), want: getToken(), kind: 'refresh' },
    { name: 'already expired', tokens: tokens({ expiresAt: NOW - 1 }), want: getToken(), kind: 'refresh' },
    { name: 'no expiry: never stale', tokens: tokens({ expiresAt: undefined }), want: getToken(60 * MIN), kind: 'current' },
    { name: 'a larger margin asks for more', tokens: tokens(), want: getToken(45 * MIN), kind: 'refresh' },
    { name: 'forced, fresh token', tokens: tokens(), want: forced(), kind: 'refresh' },
    {
      name: 'forced, but refreshed since the call saw the row',
      row: row({ updatedAt: new Date(NOW - MIN) }),
      tokens: tokens(),
      want: forced(NOW - 2 * MIN),
      kind: 'current',
    },
    {
      name: 'forced, row unchanged since the call saw it',
      row: row({ updatedAt: new Date(NOW - 2 * MIN) }),
      tokens: tokens(),
      want: forced(NOW - 2 * MIN),
      kind: 'refresh',
    },
    {
      name: 'the attempt waited for failed',
      row: row({ refreshFailures: 3 }),
      tokens: tokens({ expiresAt: NOW }),
      want: { ...getToken(), sawFailures: 2 },
      kind: 'waited-attempt-failed',
    },
    {
      name: 'the attempt waited for succeeded (fresh now)',
      row: row({ refreshFailures: 0 }),
      tokens: tokens(),
      want: { ...getToken(), sawFailures: 0 },
      kind: 'current',
    },
    {
      name: 'waited, no new failure, still stale',
      row: row({ refreshFailures: 2 }),
      tokens: tokens({ expiresAt: NOW }),
      want: { ...getToken(), sawFailures: 2 },
      kind: 'refresh',
    },
    {
      name: 'no refresh token, not yet expired: hand out what is left',
      tokens: tokens({ refreshToken: undefined, expiresAt: NOW + 10_000 }),
      want: getToken(),
      kind: 'current',
    },
    {
      name: 'no refresh token, expired',
      tokens: tokens({ refreshToken: undefined, expiresAt: NOW }),
      want: getToken(),
      kind: 'expired-without-refresh-token',
    },
    {
      name: 'no refresh token, forced, not expired',
      tokens: tokens({ refreshToken: undefined, expiresAt: NOW + 10 * MIN }),
      want: forced(),
      kind: 'current',
    },
    {
      name: 'no refresh token, forced, expired',
      tokens: tokens({ refreshToken: undefined, expiresAt: NOW - 1 }),
      want: forced(),
      kind: 'expired-without-refresh-token',
    },
  ];
  it.each(cases)('$name -> $kind', ({ row: r, tokens: t, want, kind }) => {
    expect(judgeTokens(r ?? row(), t, want, NOW).kind).toBe(kind);
  });
});

describe('isFresh', () => {
  it.each([
    { expiresAt: NOW + MIN + 1, margin: MIN, fresh: true },
    { expiresAt: NOW + MIN, margin: MIN, fresh: false },
    { expiresAt: NOW + 1, margin: 0, fresh: true },
    { expiresAt: NOW, margin: 0, fresh: false },
    { expiresAt: undefined, margin: 3_600_000, fresh: true },
  ])('expires at now+$expiresAt, margin $margin -> $fresh', ({ expiresAt, margin, fresh }) => {
    expect(isFresh(tokens({ expiresAt }), margin, NOW)).toBe(fresh);
  });
});
