import type { RoleGrant } from '../auth/roles.js';
import type { InfrabotConfig, RateLimits } from '../config/config-schema.js';
import { parseDuration } from '../util/duration.js';
import type { StoredEvent } from './control-events.js';

export interface Change {
  by: string;
  at: string;
  reason?: string;
}

export interface BreakerState {
  /** Stored state; "half-open" is derived from trippedAt and the cool-down when read. */
  state: 'closed' | 'open';
  change?: Change;
}

export interface ClusterState {
  enabled: boolean;
  change?: Change;
  /** The limits set by config or a human: the ceiling automatic throttling never exceeds. */
  rateLimits: RateLimits;
  breaker: BreakerState;
  /** Automatic throttling in force (factor < 1), by `system`, with why. */
  throttle?: { factor: number; reason: string; at: string };
  /** The adaptive controller: switched off by a person, or its current step (factor < 1) and why. */
  adaptive?: { off?: boolean; factor?: number; reason?: string; at?: string };
  /** Set by a human `ratelimit set`: their limits win over throttling until `ratelimit release`. */
  manual?: Change;
}

export interface Budget {
  daily?: number;
  monthly?: number;
  currency: string;
  change: Change;
}

export interface ControlState {
  /** Sequence number of the last event folded in (0 = none). */
  seq: number;
  /**
   * Token of the commit that stored this state (absent before the first one). Unlike seq it never repeats
   * across writers, so "decided on exactly this state" can be checked even when seq happens to match.
   */
  version?: string;
  killSwitch: { on: boolean; change?: Change };
  clusters: Record<string, ClusterState>;
  grants: RoleGrant[];
  /** Budgets by subject: `cluster:<name>` or `team:<name>` (absent in states stored before budgets existed). */
  budgets?: Record<string, Budget>;
}

/** The share of the configured limits enforced: the lower of budget throttling and the adaptive step. */
export function limitFactor(c: ClusterState): number {
  if (c.manual) return 1;
  const adaptive = c.adaptive && !c.adaptive.off ? (c.adaptive.factor ?? 1) : 1;
  return Math.min(c.throttle?.factor ?? 1, adaptive);
}

/** The limits guards enforce: the ceiling, scaled down by throttling unless a human holds the limits. */
export function effectiveRateLimits(c: ClusterState): RateLimits {
  const f = limitFactor(c);
  if (f >= 1) return c.rateLimits;
  const scale = (n: number) => (n > 0 ? Math.max(1, Math.floor(n * f)) : 0);
  return { perMinute: scale(c.rateLimits.perMinute), perHour: scale(c.rateLimits.perHour), perDay: scale(c.rateLimits.perDay) };
}

/** The state before any event: what the config declares. */
export function initialState(config: InfrabotConfig): ControlState {
  const clusters: Record<string, ClusterState> = {};
  for (const [name, c] of Object.entries(config.clusters)) {
    clusters[name] = { enabled: true, rateLimits: { ...c.rateLimits }, breaker: { state: 'closed' } };
  }
  return { seq: 0, killSwitch: { on: false }, clusters, grants: [] };
}

/** Clusters added to the config after state was stored start from their configured defaults. */
export function withConfiguredClusters(state: ControlState, config: InfrabotConfig): ControlState {
  const missing = Object.keys(config.clusters).filter((n) => !Object.hasOwn(state.clusters, n));
  if (missing.length === 0) return state;
  const base = initialState(config);
  const clusters = { ...state.clusters };
  for (const n of missing) clusters[n] = base.clusters[n]!;
  return { ...state, clusters };
}

/** Pure fold of one event into state. Unknown clusters are created so old events always replay. */
export function applyEvent(state: ControlState, stored: StoredEvent): ControlState {
  const e = stored.event;
  const change = (reason?: string): Change => ({ by: stored.actor, at: stored.at, ...(reason ? { reason } : {}) });
  const next: ControlState = { ...state, seq: stored.seq };
  const cluster = (name: string): ClusterState =>
    (Object.hasOwn(state.clusters, name) ? state.clusters[name] : undefined) ?? { enabled: true, rateLimits: { perMinute: 0, perHour: 0, perDay: 0 }, breaker: { state: 'closed' } };
  const setCluster = (name: string, c: ClusterState) => {
    next.clusters = { ...state.clusters, [name]: c };
  };
  switch (e.type) {
    case 'killswitch.set':
      next.killSwitch = { on: e.on, change: change(e.reason) };
      break;
    case 'cluster.enabled':
    case 'cluster.disabled':
      setCluster(e.cluster, { ...cluster(e.cluster), enabled: e.type === 'cluster.enabled', change: change(e.reason) });
      break;
    case 'config.ratelimit':
      // The config's defaults change the configured limits; they take no hold from automatic throttling.
      setCluster(e.cluster, { ...cluster(e.cluster), rateLimits: { ...cluster(e.cluster).rateLimits, ...e.limits } });
      break;
    case 'ratelimit.set': {
      // A person's limits win over automatic throttling; `system` (the throttle itself) never takes the hold.
      const c = cluster(e.cluster);
      setCluster(e.cluster, { ...c, rateLimits: { ...c.rateLimits, ...e.limits }, ...(stored.actor !== 'system' ? { manual: change() } : {}) });
      break;
    }
    case 'ratelimit.throttled': {
      const { throttle: _old, ...c } = cluster(e.cluster);
      setCluster(e.cluster, e.factor >= 1 ? c : { ...c, throttle: { factor: e.factor, reason: e.reason, at: stored.at } });
      break;
    }
    case 'ratelimit.adaptive': {
      const c = cluster(e.cluster);
      // Off forgets the step: limits go straight back to the ceiling.
      setCluster(e.cluster, { ...c, adaptive: e.on ? {} : { off: true } });
      break;
    }
    case 'ratelimit.adapted': {
      const c = cluster(e.cluster);
      setCluster(e.cluster, { ...c, adaptive: { ...(c.adaptive?.off ? { off: true } : {}), ...(e.factor < 1 ? { factor: e.factor, reason: e.reason, at: stored.at } : {}) } });
      break;
    }
    case 'ratelimit.released': {
      const { manual: _m, ...c } = cluster(e.cluster);
      setCluster(e.cluster, c);
      break;
    }
    case 'budget.set': {
      const key = e.cluster ? `cluster:${e.cluster}` : `team:${e.team}`;
      const budgets = { ...(state.budgets ?? {}) };
      if (!e.daily && !e.monthly) delete budgets[key];
      else budgets[key] = { ...(e.daily ? { daily: e.daily } : {}), ...(e.monthly ? { monthly: e.monthly } : {}), currency: e.currency, change: change() };
      next.budgets = budgets;
      break;
    }
    case 'breaker.tripped':
      setCluster(e.cluster, { ...cluster(e.cluster), breaker: { state: 'open', change: change(e.reason) } });
      break;
    case 'breaker.reset':
      setCluster(e.cluster, { ...cluster(e.cluster), breaker: { state: 'closed', change: change() } });
      break;
    case 'role.granted':
    case 'role.revoked': {
      const same = (g: RoleGrant) => g.subject === e.subject && g.role === e.role && g.cluster === e.cluster;
      const rest = state.grants.filter((g) => !same(g));
      next.grants =
        e.type === 'role.granted'
          ? [...rest, { subject: e.subject, role: e.role, ...(e.cluster ? { cluster: e.cluster } : {}), grantedBy: stored.actor, grantedAt: stored.at }]
          : rest;
      break;
    }
  }
  return next;
}

export const replay = (from: ControlState, events: readonly StoredEvent[]) => events.reduce(applyEvent, from);

/**
 * The state before any event, as the config of that time declared it: today's config with every recorded
 * config change undone (latest first). Replaying `events` onto it gives the state at any point in time.
 */
export function configuredBase(config: InfrabotConfig, events: readonly StoredEvent[]): ControlState {
  const base = initialState(config);
  for (const { event: e } of [...events].reverse()) {
    if (e.type !== 'config.ratelimit' || !Object.hasOwn(base.clusters, e.cluster)) continue;
    const c = base.clusters[e.cluster]!;
    base.clusters[e.cluster] = { ...c, rateLimits: { ...c.rateLimits, ...e.previous } };
  }
  return base;
}

/**
 * How the stored state differs from what the config now declares, per cluster: rate limits where replaying
 * the commands' events onto today's config gives another value than the one stored. A limit someone set by
 * command replays to that value, so it is never overridden; only defaults nobody changed follow the config.
 */
export function configDrift(config: InfrabotConfig, stored: ControlState, events: readonly StoredEvent[]): { cluster: string; limits: Partial<RateLimits>; previous: Partial<RateLimits> }[] {
  // Today's config supersedes the defaults recorded earlier; what commands set still replays on top of it.
  const replayed = replay(initialState(config), events.filter((e) => e.event.type !== 'config.ratelimit'));
  const drift: { cluster: string; limits: Partial<RateLimits>; previous: Partial<RateLimits> }[] = [];
  for (const name of Object.keys(config.clusters).sort()) {
    const want = replayed.clusters[name]?.rateLimits;
    const have = Object.hasOwn(stored.clusters, name) ? stored.clusters[name]!.rateLimits : undefined;
    if (!want || !have) continue; // a cluster new to the config starts from its defaults anyway
    const keys = (Object.keys(want) as (keyof RateLimits)[]).filter((k) => want[k] !== have[k]);
    if (keys.length) drift.push({ cluster: name, limits: pick(want, keys), previous: pick(have, keys) });
  }
  return drift;
}

const pick = (limits: RateLimits, keys: readonly (keyof RateLimits)[]): Partial<RateLimits> => Object.fromEntries(keys.map((k) => [k, limits[k]]));

export type BreakerView = 'closed' | 'open' | 'half-open';

/** An open breaker lets trial traffic through (half-open) once its cool-down has passed. */
export function breakerView(b: BreakerState, cooldown: string, now: Date): BreakerView {
  if (b.state === 'closed') return 'closed';
  const tripped = b.change ? Date.parse(b.change.at) : now.getTime();
  return now.getTime() - tripped >= (parseDuration(cooldown) ?? 0) ? 'half-open' : 'open';
}
