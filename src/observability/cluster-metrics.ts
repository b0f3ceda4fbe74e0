import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** One worker's series, as `Registry.getMetricsAsJSON` gives them (plain data: they cross the IPC channel). */
type Series = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** A worker's app exists and it answers collections. */
const READY = 'nexus:cluster-metrics-ready';
/** A worker asks the primary for the aggregate (a scrape landed on it). */
const REQUEST = 'nexus:cluster-metrics-request';
/** The primary answers that worker. */
const RESPONSE = 'nexus:cluster-metrics-response';
/** The primary asks every ready worker for its series. */
const COLLECT = 'nexus:cluster-metrics-collect';
/** A worker answers a collection. */
const PART = 'nexus:cluster-metrics-part';

/** How long the primary waits for every ready worker's series. */
const COLLECT_TIMEOUT_MS = 3_000;
/** How long a worker waits for the primary's aggregate. */
const ANSWER_TIMEOUT_MS = COLLECT_TIMEOUT_MS + 1_000;

type Message =
  | { type: typeof READY }
  | { type: typeof REQUEST; id: number }
  | { type: typeof RESPONSE; id: number; text?: string; error?: string }
  | { type: typeof COLLECT; id: number }
  | { type: typeof PART; id: number; metrics: Series };

function isMessage(m: unknown): m is Message {
  const type = (m as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('nexus:cluster-metrics-');
}

// Not a NexusError: the /metrics scrape route answers it as plain HTTP, outside the RPC error contract.
export class ClusterMetricsUnavailableError extends Error {
  constructor(reason: string) {
    super(`the cluster's metrics could not be collected: ${reason}`);
    this.name = 'ClusterMetricsUnavailableError';
  }
}

/**
 * In the `--workers` primary. The primary serves no HTTP (workers share the
 * port), so a scrape of /metrics lands on one worker, which asks the primary
 * here; the primary collects the series of every worker that is ready (a
 * worker still starting has served nothing and is not waited for) and
 * answers with their sum, aggregated by prom-client: one scrape sees the
 * whole process group, as if it were one server. A ready worker that does
 * not answer fails the scrape (503) rather than making a partial sum look
 * whole.
 */
export function serveClusterMetrics(): void {
  const ready = new Set<Worker>();
  const collections = new Map<number, { parts: Series[]; waiting: Set<Worker>; done: (err?: Error) => void }>();
  let nextId = 0;

  const collect = () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const workers = [...ready].filter((w) => w.isConnected());
      const parts: Series[] = [];
      const timer = setTimeout(() => finish(new Error(`${entry.waiting.size} worker(s) did not answer within ${COLLECT_TIMEOUT_MS} ms`)), COLLECT_TIMEOUT_MS);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        collections.delete(id);
        if (err) reject(err);
        else AggregatorRegistry.aggregate(parts).metrics().then(resolve, reject);
      };
      const entry = { parts, waiting: new Set(workers), done: finish };
      collections.set(id, entry);
      if (workers.length === 0) return finish();
      for (const w of workers) w.send({ type: COLLECT, id } satisfies Message);
    });

  // A worker that dies mid-collection has no series left to give (its counters died with it).
  cluster.on('exit', (worker) => {
    ready.delete(worker);
    for (const entry of collections.values()) if (entry.waiting.delete(worker) && entry.waiting.size === 0) entry.done();
  });
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === READY) {
      ready.add(worker);
    } else if (message.type === PART) {
      const entry = collections.get(message.id);
      if (!entry) return;
      if (!entry.waiting.delete(worker)) return;
      entry.parts.push(message.metrics);
      if (entry.waiting.size === 0) entry.done();
    } else if (message.type === REQUEST) {
      collect().then(
        (text) => worker.send({ type: RESPONSE, id: message.id, text } satisfies Message),
        (err: Error) => worker.send({ type: RESPONSE, id: message.id, error: err.message } satisfies Message),
      );
    }
  });
}

/**
 * In a `--workers` worker, once its app exists: answers the primary's
 * collections with `registry`'s series, tells the primary it is ready, and
 * returns what /metrics should serve: the aggregate of every worker.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  let nextId = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECT) {
      void registry.getMetricsAsJSON().then((metrics) => process.send!({ type: PART, id: message.id, metrics } satisfies Message));
    } else if (message.type === RESPONSE) {
      const waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.text !== undefined) waiting.resolve(message.text);
      else waiting.reject(new ClusterMetricsUnavailableError(message.error ?? 'no answer'));
    }
  });
  process.send!({ type: READY } satisfies Message);
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new ClusterMetricsUnavailableError('the primary did not answer'));
      }, ANSWER_TIMEOUT_MS);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      process.send!({ type: REQUEST, id } satisfies Message);
    });
}
