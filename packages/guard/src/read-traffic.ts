import type { Redis } from 'ioredis';
import { DENY_REASONS, type DenyReason } from './decision.js';
import type { ControlKeys } from './keys.js';

export interface ClusterTraffic {
  /** Guard checks per second over the window. */
  requestsPerSecond: number;
  allowedPerSecond: number;
  deniedPerSecond: Partial<Record<DenyReason, number>>;
  /** Share of finished requests that failed (5xx), or undefined when none finished. */
  errorRate?: number;
  finished: number;
  errors: number;
  avgLatencyMs?: number;
  /** Services that reported in the window. */
  services: string[];
  /** Checks decided on a stale snapshot in the window. */
  staleChecks: number;
}

/**
 * Sums the guards' per-second buckets of the last `seconds` whole seconds (the current one is still
 * filling) for each cluster, in one pipelined round trip. (Used by the bot.)
 */
export async function readTraffic(redis: Redis, keys: ControlKeys, clusters: readonly string[], seconds: number, nowMs = Date.now()): Promise<Record<string, ClusterTraffic>> {
  const last = Math.floor(nowMs / 1000) - 1;
  const p = redis.pipeline();
  for (const c of clusters) for (let s = last - seconds + 1; s <= last; s++) p.hgetall(keys.traffic(c, s));
  const results = (await p.exec()) ?? [];
  const out: Record<string, ClusterTraffic> = {};
  clusters.forEach((c, ci) => {
    const sum = new Map<string, number>();
    for (let i = 0; i < seconds; i++) {
      const [err, h] = results[ci * seconds + i] ?? [];
      if (err || !h) continue;
      for (const [f, v] of Object.entries(h as Record<string, string>)) sum.set(f, (sum.get(f) ?? 0) + Number(v));
    }
    const n = (f: string) => sum.get(f) ?? 0;
    const denied: Partial<Record<DenyReason, number>> = {};
    for (const r of DENY_REASONS) if (n(`deny:${r}`) > 0) denied[r] = n(`deny:${r}`) / seconds;
    out[c] = {
      requestsPerSecond: n('req') / seconds,
      allowedPerSecond: n('allow') / seconds,
      deniedPerSecond: denied,
      ...(n('done') > 0 ? { errorRate: n('err') / n('done'), avgLatencyMs: n('lat_us') / 1000 / n('done') } : {}),
      finished: n('done'),
      errors: n('err'),
      services: [...sum.keys()].filter((f) => f.startsWith('svc:')).map((f) => f.slice(4)).sort(),
      staleChecks: n('stale'),
    };
  });
  return out;
}

export interface GuardSeen {
  service: string;
  instance: string;
  status: string;
  version: number;
  staleSince?: string;
  /** When it last reported (ms since the epoch). */
  at: number;
}

/** Guards that reported within `freshMs`, per cluster; older entries are removed as they are read. (Used by the bot.) */
export async function readGuards(redis: Redis, keys: ControlKeys, clusters: readonly string[], freshMs = 15_000, nowMs = Date.now()): Promise<Record<string, GuardSeen[]>> {
  const p = redis.pipeline();
  for (const c of clusters) p.hgetall(keys.guards(c));
  const results = (await p.exec()) ?? [];
  const out: Record<string, GuardSeen[]> = {};
  const gone = redis.pipeline();
  let stale = 0;
  clusters.forEach((c, i) => {
    const [err, h] = results[i] ?? [];
    out[c] = [];
    if (err || !h) return;
    for (const [field, raw] of Object.entries(h as Record<string, string>)) {
      let v: { s?: unknown; v?: unknown; t?: unknown; since?: unknown };
      try {
        v = JSON.parse(raw) as typeof v;
      } catch {
        continue;
      }
      const at = typeof v.t === 'number' ? v.t : 0;
      if (nowMs - at > freshMs) {
        if (nowMs - at > 10 * freshMs) (gone.hdel(keys.guards(c), field), stale++);
        continue;
      }
      const sep = field.indexOf('|');
      out[c]!.push({
        service: field.slice(0, sep), instance: field.slice(sep + 1), status: String(v.s), version: typeof v.v === 'number' ? v.v : -1, at,
        ...(typeof v.since === 'string' ? { staleSince: v.since } : {}),
      });
    }
  });
  if (stale) await gone.exec().catch(() => undefined);
  return out;
}
