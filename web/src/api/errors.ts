import { Code, ConnectError } from '@connectrpc/connect';
// The TypeScript client package's error types and decoding, from its source.
import { toNexusError } from '../../../clients/ts/src/errors.js';

/** What the UI needs from a failed call: the gRPC code, the ErrorInfo reason (without its prefix) and a message. */
export interface ApiProblem {
  code: Code;
  /** e.g. `CREDENTIALS_INVALID`, `STATE_EXPIRED`; empty when the server sent no ErrorInfo. */
  reason: string;
  message: string;
  metadata: Record<string, string>;
}

export function problemOf(err: unknown): ApiProblem {
  const e = toNexusError(ConnectError.from(err));
  return { code: e.code, reason: e.reason, message: e.cause.rawMessage, metadata: { ...e.metadata } };
}

/** True when the web session is gone (expired or revoked token): the page must not keep trying. */
export function isSessionLost(problem: ApiProblem): boolean {
  return problem.code === Code.Unauthenticated;
}

/**
 * Turns the server's CREDENTIALS_INVALID violations (ErrorInfo metadata
 * `violations`: "/pointer rule; /pointer rule", never the submitted values)
 * into one message per form field. Violations about the whole object
 * ("/ missing required property \"x\"") are attributed to that property.
 */
export function fieldErrorsOf(problem: ApiProblem): { fields: Record<string, string>; other: string[] } {
  const fields: Record<string, string> = {};
  const other: string[] = [];
  if (problem.reason !== 'CREDENTIALS_INVALID') return { fields, other };
  const raw = problem.metadata.violations ?? '';
  for (const violation of raw.split('; ').filter(Boolean)) {
    const match = /^(\/\S*) (.*)$/.exec(violation);
    if (!match) {
      other.push(violation);
      continue;
    }
    const [, pointer, rule] = match as unknown as [string, string, string];
    const missing = /^missing required property "(.+)"$/.exec(rule);
    const unknown = /^has unknown property "(.+)"$/.exec(rule);
    if (pointer === '/' && missing) fields[missing[1]!] ??= 'This field is required.';
    else if (pointer === '/' && unknown) other.push(`Unexpected field "${unknown[1]}".`);
    else if (pointer === '/') other.push(sentence(rule));
    else fields[unescapePointer(pointer.slice(1).split('/')[0]!)] ??= sentence(rule);
  }
  return { fields, other };
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function sentence(rule: string): string {
  const s = rule.charAt(0).toUpperCase() + rule.slice(1);
  return s.endsWith('.') ? s : `${s}.`;
}
