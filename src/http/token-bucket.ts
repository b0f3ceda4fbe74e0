/** Settings of a token bucket: refill rate and capacity. */
export interface BucketSpec {
  ratePerSecond: number;
  burst: number;
}

/** One token bucket: starts full, refills continuously. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly spec: BucketSpec,
    now: number,
  ) {
    this.tokens = spec.burst;
    this.at = now;
  }

  /**
   * Takes one token at `now` (milliseconds): 0 when granted, else the
   * milliseconds until one is available. `spec` replaces the bucket's own
   * settings for this take (a quota changed while the bucket lives): the
   * tokens it holds are capped at the new burst.
   */
  take(now: number, spec: BucketSpec = this.spec): number {
    this.tokens = Math.min(spec.burst, this.tokens + ((now - this.at) / 1000) * spec.ratePerSecond);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return ((1 - this.tokens) / spec.ratePerSecond) * 1000;
  }
}
