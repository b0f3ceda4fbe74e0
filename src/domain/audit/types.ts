/**
 * The audit log contract (fixed in the session brief so that every line of
 * work can record events before this module lands): who did what to which
 * target, with what outcome, from where. Never a secret.
 */
export type AuditActor =
  | { kind: 'api_key'; keyId: string }
  | { kind: 'end_user'; accountId: string; workspaceId: string; clientId: string }
  | { kind: 'operator'; keyId: string }
  | { kind: 'system' }
  /**
   * A caller that proved nothing: an unknown API key (`presented` is its
   * public prefix, `nxs_` + 4 characters, or empty when it has not the
   * generated format) or an OAuth client that did not authenticate
   * (`presented` is the client id it claimed). Never a secret.
   */
  | { kind: 'anonymous'; presented: string };

export type AuditOutcome = 'success' | 'denied' | 'failed';

export interface AuditEventInput {
  projectId: string;
  actor: AuditActor;
  /** Dotted lower-case: 'token.read', 'connection.delete', 'proxy.request', ... */
  action: string;
  /** e.g. { type: 'connection', id } */
  target?: { type: string; id: string };
  outcome: AuditOutcome;
  /** ErrorReason name when outcome != success. */
  reason?: string;
  clientIp?: string;
  requestId?: string;
  /** Never a secret (keys that name one are redacted all the same). */
  detail?: Record<string, string | number | boolean>;
}

export interface AuditLog {
  /**
   * Queues the event; it is written within NEXUS_AUDIT_FLUSH_MS (batched,
   * hash-chained per project). Never throws and never drops: when the buffer
   * is full, new RPCs are refused (UNAVAILABLE) until it drains.
   */
  record(event: AuditEventInput): void;
}
