/** Closed-loop load: N callers, each issuing its next call as soon as its last one answered. */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface Window {
  seconds: number;
  /** CPU the server process used during the window (user + system), when measured. */
  serverCpuMs?: number;
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
  /** Server CPU per successful call: independent of how busy the machine is. */
  serverCpuUsPerCall: number;
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
    serverCpuUsPerCall: (windows.reduce((n, w) => n + (w.serverCpuMs ?? NaN), 0) * 1000) / all.length,
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

// USER_HZ: 100 on every Linux this runs on.
const CLOCK_TICKS = 100;
