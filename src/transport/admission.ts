import { Code, ConnectError, createContextKey, type Interceptor } from '@connectrpc/connect';
import { ConnectionBusyError, OverloadedError } from '../domain/shared/errors.js';

/** The TCP connection a call arrived on (an HTTP/1.1 socket or an HTTP/2 session), set by contextValues. */
export const connectionKey = createContextKey<object | undefined>(undefined, { description: 'the connection a call arrived on' });

export interface AdmissionLimits {
  /** Unary calls running in this process. */
  maxInflight: number;
  /** Unary calls running for one connection; its further calls wait their turn. */
  maxInflightPerConnection: number;
  /** Queries waiting for a database connection before new calls are refused. */
  dbQueueMax: number;
}

// What RetryInfo suggests: an overload is usually over within a second.
const RETRY_DELAY_MS = 1_000;
// Calls one connection may have waiting for its turn. HTTP/2 bounds it already (its stream limit); this is a backstop.
const MAX_WAITING_PER_CONNECTION = 1_000;

interface ConnectionSlots {
  running: number;
  waiting: (() => void)[];
}

/**
 * Admission at the door, for unary calls:
 * - one connection runs at most NEXUS_MAX_INFLIGHT_PER_CONNECTION calls; its
 *   other calls wait in that connection's own queue (bounded by its HTTP/2
 *   stream limit), so a connection with thousands of calls holds a few
 *   database slots, not all of them, and a bystander's call waits behind a
 *   handful of others instead of thousands;
 * - the process runs at most NEXUS_MAX_INFLIGHT calls, and starts none while
 *   NEXUS_DB_QUEUE_MAX queries wait for the database pool: beyond either the
 *   call is refused at once (UNAVAILABLE, OVERLOADED, with a RetryInfo)
 *   instead of every caller timing out in the pool's queue.
 * A call holds its slot until its handler settles, even if its client reset
 * the stream meanwhile, so rapid reset cannot pile up work. A call whose
 * client gives up while it waits leaves the queue. Streams are bounded
 * separately (NEXUS_MAX_STREAMS and its per-principal quota).
 */
export class Admission {
  private inflight = 0;
  private readonly perConnection = new WeakMap<object, ConnectionSlots>();

  constructor(
    private readonly limits: AdmissionLimits,
    /** Queries waiting for a pooled database connection now. */
    private readonly dbWaiting: () => number,
  ) {}

  get inFlight(): number {
    return this.inflight;
  }

  interceptor(): Interceptor {
    return (next) => async (req) => {
      if (req.method.methodKind !== 'unary') return next(req);
      const connection = req.contextValues.get(connectionKey) ?? {};
      const slots = await this.turn(connection, req.signal);
      try {
        this.shed();
      } catch (err) {
        this.release(slots);
        throw err;
      }
      this.inflight++;
      try {
        return await next(req);
      } finally {
        this.inflight--;
        this.release(slots);
      }
    };
  }

  /** Waits until the connection has a free slot, and takes it. */
  private async turn(connection: object, signal: AbortSignal): Promise<ConnectionSlots> {
    let slots = this.perConnection.get(connection);
    if (!slots) {
      slots = { running: 0, waiting: [] };
      this.perConnection.set(connection, slots);
    }
    if (slots.running < this.limits.maxInflightPerConnection) {
      slots.running++;
      return slots;
    }
    if (slots.waiting.length >= MAX_WAITING_PER_CONNECTION) throw new ConnectionBusyError(this.limits.maxInflightPerConnection, RETRY_DELAY_MS);
    const queue = slots.waiting;
    await new Promise<void>((resolve, reject) => {
      // The client went away, its deadline passed or the server is stopping: the call leaves the queue.
      const onAbort = () => {
        const i = queue.indexOf(granted);
        if (i >= 0) queue.splice(i, 1);
        reject(ConnectError.from(signal.reason, Code.Canceled));
      };
      // release() hands its slot over: `running` is unchanged.
      const granted = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal.aborted) return reject(ConnectError.from(signal.reason, Code.Canceled));
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(granted);
    });
    return slots;
  }

  private release(slots: ConnectionSlots): void {
    const next = slots.waiting.shift();
    if (next) next();
    else slots.running--;
  }

  private shed(): void {
    if (this.inflight >= this.limits.maxInflight) throw new OverloadedError('too many calls in flight', RETRY_DELAY_MS);
    if (this.dbWaiting() >= this.limits.dbQueueMax) throw new OverloadedError('the database queue is full', RETRY_DELAY_MS);
  }
}
