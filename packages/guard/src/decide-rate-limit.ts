import type { Redis } from 'ioredis';
import { defineScripts } from './define-scripts.js';
import type { ControlKeys } from './keys.js';
import type { ClusterSnapshot } from './snapshot.js';

export interface RateDecision {
  allowed: boolean;
  /** Milliseconds until the most restrictive exhausted window ends (0 when allowed). */
  retryAfterMs: number;
  /** Requests left in the minute, hour and day windows (-1 = no limit). */
  remaining: [number, number, number];
}

/** Decides all three windows of one subject in one round trip (rate-limit-3.lua). */
export async function decideRateLimit(
  redis: Redis,
  keys: ControlKeys,
  cluster: string,
  limits: ClusterSnapshot['rateLimits'],
  tenant?: string,
  cost = 1,
): Promise<RateDecision> {
  const [m, h, d] = keys.rate(cluster, tenant);
  const [allowed, retry, rm, rh, rd] = await defineScripts(redis).rateLimit3(m, h, d, limits.perMinute, limits.perHour, limits.perDay, cost);
  return { allowed: allowed === 1, retryAfterMs: retry, remaining: [rm, rh, rd] };
}

const WINDOWS = [60_000, 3_600_000, 86_400_000] as const;
const MAX_LOCAL_SUBJECTS = 10_000;

/**
 * The thin in-process path for guards without Redis: the same aligned windows and the same all-or-nothing
 * rule, counted in this process only (so N replicas together allow up to N times the limit).
 */
export function createLocalRateLimiter(now: () => number = Date.now) {
  const counters = new Map<string, { start: number; count: number }[]>();
  return (cluster: string, limits: ClusterSnapshot['rateLimits'], tenant?: string, cost = 1): RateDecision => {
    const key = `${cluster}\u0000${tenant ?? ''}`;
    const t = now();
    const starts = WINDOWS.map((size) => t - (t % size));
    const prev = counters.get(key);
    const counts = starts.map((s, i) => (prev?.[i]?.start === s ? prev[i]!.count : 0));
    const caps = [limits.perMinute, limits.perHour, limits.perDay];
    let retry = 0;
    caps.forEach((cap, i) => {
      if (cap > 0 && counts[i]! + cost > cap) retry = Math.max(retry, starts[i]! + WINDOWS[i]! - t);
    });
    if (retry === 0) {
      // Tenants come and go: drop counters whose day is over before the map grows without bound.
      if (counters.size >= MAX_LOCAL_SUBJECTS && !counters.has(key)) {
        for (const [k, v] of counters) if (v[2]!.start !== starts[2]) counters.delete(k);
        if (counters.size >= MAX_LOCAL_SUBJECTS) counters.delete(counters.keys().next().value!);
      }
      counters.set(key, starts.map((start, i) => ({ start, count: counts[i]! + cost })));
    }
    const used = retry === 0 ? cost : 0;
    const remaining = caps.map((cap, i) => (cap > 0 ? Math.max(0, cap - counts[i]! - used) : -1)) as [number, number, number];
    return { allowed: retry === 0, retryAfterMs: retry, remaining };
  };
}
