/**
 * Exponential backoff with "equal jitter": the ceiling doubles with each
 * consecutive failure up to `maxMs`, and the delay is drawn uniformly from
 * [ceiling/2, ceiling]. The floor keeps retries spaced even with bad luck;
 * the random half spreads replicas and connections that failed together
 * (a provider outage) so they do not come back in lockstep.
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
