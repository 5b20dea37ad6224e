/**
 * The control snapshot: everything a service needs to obey infrabot, and nothing else (no users, roles or
 * audit data). The bot publishes it after every committed control change; guards keep the newest one.
 */
export interface ControlSnapshot {
  /** Monotonically increasing: the bot's control-state sequence number. */
  version: number;
  /** When the bot built this snapshot (ISO-8601). */
  at: string;
  /** Who changed things and why stays in the bot (and its audit log): snapshots carry only when. */
  killSwitch: { on: boolean; at?: string };
  clusters: Record<string, ClusterSnapshot>;
}

export interface ClusterSnapshot {
  enabled: boolean;
  /** When the cluster was last enabled or disabled. */
  changedAt?: string;
  /** Requests per window; 0 means no limit for that window. */
  rateLimits: { perMinute: number; perHour: number; perDay: number };
  breaker: {
    state: 'closed' | 'open';
    /** When the breaker opened; it becomes half-open `cooldownMs` later. */
    openedAt?: string;
    cooldownMs: number;
    /** Share of requests let through while half-open (0..1). */
    trickle: number;
  };
  /** What a guard does with rate limits when Redis is unreachable. */
  failMode: 'open' | 'closed';
  /**
   * Budget and price list for billable actions (absent: no budget, no prices). Reservations are refused when
   * charged + held + the new amount would pass the daily or monthly budget.
   */
  billing?: { currency: string; daily?: number; monthly?: number; prices?: Record<string, number> };
}

export type BreakerPhase = 'closed' | 'open' | 'half-open';

/** Half-open is derived from the time the breaker opened and its cool-down, so no timer is needed. */
export function breakerPhase(b: ClusterSnapshot['breaker'], nowMs: number): BreakerPhase {
  if (b.state === 'closed') return 'closed';
  const opened = b.openedAt ? Date.parse(b.openedAt) : nowMs;
  return nowMs - opened >= b.cooldownMs ? 'half-open' : 'open';
}

/** Checks the shape of a snapshot from the wire; returns undefined for anything that is not one. */
export function parseSnapshot(raw: unknown): ControlSnapshot | undefined {
  let v: unknown = raw;
  if (typeof raw === 'string') {
    try {
      v = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Partial<ControlSnapshot>;
  if (typeof s.version !== 'number' || !Number.isSafeInteger(s.version) || s.version < 0) return undefined;
  if (typeof s.killSwitch !== 'object' || s.killSwitch === null || typeof s.killSwitch.on !== 'boolean') return undefined;
  if (typeof s.clusters !== 'object' || s.clusters === null) return undefined;
  for (const c of Object.values(s.clusters)) {
    if (typeof c?.enabled !== 'boolean' || typeof c.rateLimits !== 'object' || typeof c.breaker?.state !== 'string') return undefined;
  }
  return s as ControlSnapshot;
}
