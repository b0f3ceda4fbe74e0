// Hand-written. waitForConnection: watch one connection (WatchConnection) until it reaches a
// wanted status or a terminal one, e.g. while the user consents at the provider.
import { Code, type Client } from '@connectrpc/connect';
import { type Connection, type ConnectionService, ConnectionStatus } from './gen/nexus/v1/connection_pb.js';
import type { NexusClient } from './client.js';
import { toNexusError } from './errors.js';

/** Statuses a connection never leaves: a new connection is needed. */
const TERMINAL = new Set([ConnectionStatus.FAILED, ConnectionStatus.REVOKED, ConnectionStatus.ATTENTION_REQUIRED]);

export interface WaitForConnectionOptions {
  /** The statuses to wait for (default: ACTIVE). */
  wanted?: ConnectionStatus[];
  /**
   * Give up after this many milliseconds with a DOMException named "TimeoutError"
   * (default 10 minutes: a consent link, and the flow behind it, expire by then).
   */
  timeoutMs?: number;
  /** Stops waiting: rejects with the signal's reason (an AbortError by default). */
  signal?: AbortSignal;
}

/** The connection reached a terminal status that was not wanted (FAILED, REVOKED, ATTENTION_REQUIRED). */
export class ConnectionStatusError extends Error {
  override readonly name = 'ConnectionStatusError';
  constructor(readonly connection: Connection) {
    super(`connection ${connection.id} is ${ConnectionStatus[connection.status]}`);
  }
  get status(): ConnectionStatus {
    return this.connection.status;
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Resolves with the connection once its status is one of `wanted` (default ACTIVE), which may
 * be at once. Rejects with ConnectionStatusError when it reaches another terminal status
 * (FAILED: consent denied or the exchange failed; REVOKED; ATTENTION_REQUIRED), with a
 * NexusError for a Nexus refusal (NotFoundError for an unknown id), and with the timeout's or
 * the signal's reason. A stream that breaks (UNAVAILABLE: a server restart, a network
 * failure) is resumed from its last cursor, after 0.5 s, then up to 5 s between attempts.
 */
export async function waitForConnection(
  client: NexusClient | Client<typeof ConnectionService>,
  connectionId: string,
  options: WaitForConnectionOptions = {},
): Promise<Connection> {
  const connections = 'connections' in client ? client.connections : client;
  const wanted = new Set(options.wanted ?? [ConnectionStatus.ACTIVE]);
  const controller = new AbortController();
  const signal = controller.signal;
  const abort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException(`connection ${connectionId} did not become ready in time`, 'TimeoutError')),
    options.timeoutMs ?? 600_000,
  );
  let cursor = '';
  let backoffMs = 500;
  try {
    for (;;) {
      try {
        for await (const res of connections.watchConnection({ connectionId, resumeCursor: cursor }, { signal })) {
          if (res.item.case === undefined) continue;
          cursor = res.item.value.cursor;
          backoffMs = 500;
          if (res.item.case !== 'event') continue;
          const connection = res.item.value.connection;
          if (!connection) continue;
          if (wanted.has(connection.status)) return connection;
          if (TERMINAL.has(connection.status)) throw new ConnectionStatusError(connection);
        }
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (err instanceof ConnectionStatusError) throw err;
        const e = toNexusError(err);
        if (e.reason === 'RESUME_CURSOR_EXPIRED') cursor = '';
        else if (e.code !== Code.Unavailable) throw e;
      }
      // The stream ended or broke: resume after a pause.
      await sleep(backoffMs, signal);
      if (signal.aborted) throw signal.reason;
      backoffMs = Math.min(backoffMs * 2, 5_000);
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
  }
}
