/**
 * Delivery ids this process has already taken on (in flight or answered), bounded and short-lived. A
 * platform retry of one of them is acked and dropped here; retries that reach another replica still run
 * once because the pipeline's idempotency key is stored.
 */
export class RecentDeliveries {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs = 30 * 60_000, private readonly max = 10_000) {}

  /** Records the id; false when it was already recorded (a retry of something this process handles). */
  add(id: string, now = Date.now()): boolean {
    this.evict(now);
    if (this.seen.has(id)) return false;
    this.seen.set(id, now);
    return true;
  }

  private evict(now: number) {
    for (const [id, at] of this.seen) {
      if (now - at <= this.ttlMs && this.seen.size < this.max) break;
      this.seen.delete(id);
    }
  }
}
