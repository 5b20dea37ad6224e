/** The largest rate limit accepted anywhere (config or `ratelimit set`). */
export const MAX_RATE_LIMIT = 1_000_000_000;

/**
 * The one rule for a cluster's rate limits, applied to the config file and to `ratelimit set` alike: a longer
 * window never allows fewer requests than a shorter one (a per-hour limit below the per-minute one would make
 * the per-minute limit meaningless and usually means a typo). Returns why limits break it, or undefined.
 */
export function checkRateLimits(l: { perMinute: number; perHour: number; perDay: number }): string | undefined {
  if (l.perMinute <= l.perHour && l.perHour <= l.perDay) return undefined;
  return `rate limits must not shrink over longer windows: per-minute ${l.perMinute} ≤ per-hour ${l.perHour} ≤ per-day ${l.perDay} does not hold`;
}
