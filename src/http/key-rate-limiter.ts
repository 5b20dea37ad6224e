/**
 * Per-key request limit as a token bucket: `perMinute` tokens, refilled continuously, so a key may burst up
 * to a minute's worth and then sustain perMinute/60 per second. Kept in this process (each replica limits
 * its own share): it protects the bot from a runaway script, not a quota replicas must agree on.
 */
export function createKeyRateLimiter(perMinute: number, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = perMinute / 60_000;
  return {
    /** 0 when the request may go ahead, else the seconds until it may. */
    take(key: string): number {
      const t = now();
      const b = buckets.get(key) ?? { tokens: perMinute, at: t };
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * perMs);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      // Full buckets are the default state: forget them so idle keys cost no memory.
      if (buckets.size > 10_000) for (const [k, v] of buckets) if (v.tokens >= perMinute) buckets.delete(k);
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    },
  };
}
