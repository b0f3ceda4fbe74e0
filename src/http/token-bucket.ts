import { isIP } from 'node:net';

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

/**
 * Token buckets keyed by a string: a client IP for unauthenticated calls; a
 * key id, or a project and an address, for the call quotas (quotas.ts). In
 * memory, per process. Memory is bounded without reordering anything on a
 * hit: buckets live in two generations of at most `maxKeys / 2` each; a key
 * is looked up in the current one (one Map.get, the hot path), then in the
 * previous one (and moved up); when the current one is full it becomes the
 * previous one and the old previous one is dropped. So a key not used while
 * `maxKeys / 2` other keys arrived is forgotten (it starts again with a full
 * bucket), and a key in use never is.
 */
export class TokenBuckets {
  private current = new Map<string, TokenBucket>();
  private previous = new Map<string, TokenBucket>();
  private readonly generation: number;

  constructor(
    private readonly spec: BucketSpec,
    maxKeys = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.generation = Math.max(1, Math.floor(maxKeys / 2));
  }

  /**
   * Takes one token: 0 when granted, else the milliseconds until one is
   * available. `spec`: this key's settings, when not the default; `now`: the
   * time, when the caller already read the clock.
   */
  take(key: string, spec: BucketSpec = this.spec, now: number = this.now()): number {
    let bucket = this.current.get(key);
    if (!bucket) {
      bucket = this.previous.get(key);
      if (bucket) this.previous.delete(key);
      else bucket = new TokenBucket(spec, now);
      if (this.current.size >= this.generation) {
        this.previous = this.current;
        this.current = new Map();
      }
      this.current.set(key, bucket);
    }
    return bucket.take(now, spec);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** IPv6 clients usually hold a whole /64: they share one bucket. */
export function bucketKeyOfIp(ip: string): string {
  // IPv4 (every call of the quotas' hot path from an IPv4 client) without parsing.
  if (!ip.includes(':') || isIP(ip) !== 6) return ip;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
