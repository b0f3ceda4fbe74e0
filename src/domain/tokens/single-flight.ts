/**
 * Coalesces concurrent calls with the same key into one execution whose
 * result (or error) every caller receives. This is the in-process half of
 * single-flight refresh; the row lock in PostgreSQL is the cross-process half.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    const promise = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.inFlight.size;
  }
}
