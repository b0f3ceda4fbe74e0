import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'nexus:cluster-metrics-request';
const RESPONSE = 'nexus:cluster-metrics-response';
/** prom-client gives up on a silent worker after 5 s; the asking worker waits a little longer. */
const ANSWER_TIMEOUT_MS = 6_000;

interface Request {
  type: typeof REQUEST;
  id: number;
}
interface Response {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

const isRequest = (m: unknown): m is Request => (m as Request | null)?.type === REQUEST;
const isResponse = (m: unknown): m is Response => (m as Response | null)?.type === RESPONSE;

export class ClusterMetricsUnavailableError extends Error {
  constructor(reason: string) {
    super(`the cluster's metrics could not be collected: ${reason}`);
    this.name = 'ClusterMetricsUnavailableError';
  }
}

/**
 * In the `--workers` primary. The primary serves no HTTP (workers share the
 * port), so a scrape of /metrics lands on one worker, which asks the primary
 * here; the primary collects every worker's registry over IPC (prom-client's
 * AggregatorRegistry) and answers with the sum: one scrape sees the whole
 * process group, as if it were one server.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isRequest(message)) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text } satisfies Response),
      (err: Error) => worker.send({ type: RESPONSE, id: message.id, error: err.message } satisfies Response),
    );
  });
}

/**
 * In a `--workers` worker: offers `registry` to the primary's collection
 * and returns what /metrics should serve, the aggregate of every worker.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs this worker's answer to the primary's collection requests
  let nextId = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    if (!isResponse(message)) return;
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.text !== undefined) waiting.resolve(message.text);
    else waiting.reject(new ClusterMetricsUnavailableError(message.error ?? 'no answer'));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new ClusterMetricsUnavailableError('the primary did not answer'));
      }, ANSWER_TIMEOUT_MS);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      process.send!({ type: REQUEST, id } satisfies Request);
    });
}
