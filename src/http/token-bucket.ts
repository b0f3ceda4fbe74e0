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

  /** Takes one token at `now` (milliseconds): 0 when granted, else the milliseconds until one is available. */
  take(now: number): number {
    this.tokens = Math.min(this.spec.burst, this.tokens + ((now - this.at) / 1000) * this.spec.ratePerSecond);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return ((1 - this.tokens) / this.spec.ratePerSecond) * 1000;
  }
}
