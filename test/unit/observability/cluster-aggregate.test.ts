import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/observability/metrics.js';

// What a `--workers` scrape serves is prom-client's aggregate of every worker's
// registry (cluster-metrics.ts). Per-process series add up; the database-wide
// gauges every worker reads alike must not.
describe('the cluster aggregate of two workers', () => {
  it('sums per-process series and reports database-wide gauges once', async () => {
    const workers = [new Metrics(), new Metrics()];
    workers[0]!.rpcRequests.labels('nexus.v1.TokenService', 'GetToken', 'ok').inc(3);
    workers[1]!.rpcRequests.labels('nexus.v1.TokenService', 'GetToken', 'ok').inc(4);
    workers[0]!.streamsOpen.labels('WatchConnections').set(10);
    workers[1]!.streamsOpen.labels('WatchConnections').set(5);
    for (const w of workers) {
      w.workerDue.set(42);
      w.workerBackoff.set(7);
    }
    const text = await AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON()))).metrics();
    const value = (series: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${series} `))
          ?.split(' ')[1],
      );
    expect(value('nexus_rpc_requests_total{service="nexus.v1.TokenService",method="GetToken",code="ok"}')).toBe(7);
    expect(value('nexus_streams_open{method="WatchConnections"}')).toBe(15);
    expect(value('nexus_refresh_worker_due')).toBe(42);
    expect(value('nexus_refresh_worker_backoff')).toBe(7);
  });
});
