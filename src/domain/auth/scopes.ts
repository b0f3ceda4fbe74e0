import type { ApiKeyScope } from '../model/api-key.js';
import { echo, InvalidFieldError } from '../shared/errors.js';

/** Scopes a user token may carry: never `admin`. */
export type UserScope = Extract<ApiKeyScope, 'connections' | 'tokens'>;

export const USER_SCOPES: ReadonlyArray<{ name: UserScope; description: string }> = [
  {
    name: 'connections',
    description: "List and get providers; create, list, get, watch and delete the signed-in user's own connections (their workspace only).",
  },
  {
    name: 'tokens',
    description: "GetToken and RefreshToken for the signed-in user's own connections (their workspace only).",
  },
];

export const DEFAULT_USER_SCOPES: UserScope[] = ['connections'];

/** What a handoff intent grants the web session. */
export const INTENT_SCOPES: Record<string, UserScope[]> = { CONNECTIONS: ['connections'] };

export function parseUserScopes(values: string[]): UserScope[] {
  if (values.length === 0) return [...DEFAULT_USER_SCOPES];
  const out = new Set<UserScope>();
  // Accept both repeated values and one space-separated OAuth `scope` string.
  for (const value of values.flatMap((v) => v.split(' ')).filter(Boolean)) {
    const known = USER_SCOPES.find((s) => s.name === value);
    if (!known) throw new InvalidFieldError('scopes', `unknown scope "${echo(value)}" (see ListScopes)`);
    out.add(known.name);
  }
  return [...out];
}
