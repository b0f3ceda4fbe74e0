/** Closed-loop load: N callers, each issuing its next call as soon as its last one answered. */
import { performance } from 'node:perf_hooks';

export interface Window {
  seconds: number;
  errors: number;
  firstError?: unknown;
  /** Milliseconds per successful call. */
  latencies: number[];
}

export interface Summary {
  calls: number;
  errors: number;
  /** Successful calls per second. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
}

export async function runLoad(concurrency: number, durationMs: number, call: (i: number) => Promise<unknown>): Promise<Window> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  let next = 0;
  const start = performance.now();
  const end = start + durationMs;
  const caller = async () => {
    while (performance.now() < end) {
      const i = next++;
      const t0 = performance.now();
      try {
        await call(i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return { seconds: (performance.now() - start) / 1000, errors, firstError, latencies };
}

/** One summary over several windows of the same kind (interleaved windows even out background load). */
export function summarize(windows: Window[]): Summary {
  const all = windows.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const seconds = windows.reduce((n, w) => n + w.seconds, 0);
  return {
    calls: all.length,
    errors: windows.reduce((n, w) => n + w.errors, 0),
    throughput: all.length / seconds,
    p50Ms: percentile(all, 0.5),
    p99Ms: percentile(all, 0.99),
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
