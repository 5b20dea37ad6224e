import type { StoredEvent } from '../engine/control-events.js';
import { replay, type ClusterState, type ControlState } from '../engine/control-state.js';

/** JSON with sorted keys, so two equal values always print the same. */
const stable = (v: unknown): string =>
  v === undefined ? 'undefined'
  : Array.isArray(v) ? `[${v.map(stable).join(',')}]`
  : v && typeof v === 'object' ? `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`
  : JSON.stringify(v);

const DEFAULT_CLUSTER: ClusterState = { enabled: true, rateLimits: { perMinute: 0, perHour: 0, perDay: 0 }, breaker: { state: 'closed' } };

/**
 * Replays the control events and lists every way the stored state projection differs: grants, the
 * kill-switch and each cluster's switch and breaker exactly; rate limits only where an event set them (the
 * rest come from the config of the day, which events do not record). Empty when they agree.
 */
export function compareReplay(stored: ControlState | undefined, events: readonly StoredEvent[]): string[] {
  const problems: string[] = [];
  const replayed = replay({ seq: 0, killSwitch: { on: false }, clusters: {}, grants: [] }, events);
  if (!stored) return events.length ? [`the stored state is missing although ${events.length} control events exist`] : [];
  if (stored.seq !== replayed.seq) problems.push(`the stored state claims to include events up to #${stored.seq}, the events end at #${replayed.seq}`);
  if (stable(stored.killSwitch) !== stable(replayed.killSwitch)) {
    problems.push(`kill-switch: stored ${stable(stored.killSwitch)}, replayed ${stable(replayed.killSwitch)}`);
  }
  const storedGrants = new Set(stored.grants.map(stable));
  const replayedGrants = new Set(replayed.grants.map(stable));
  for (const g of storedGrants) if (!replayedGrants.has(g)) problems.push(`role grant ${g} is in the stored state but no event granted it`);
  for (const g of replayedGrants) if (!storedGrants.has(g)) problems.push(`role grant ${g} was granted by events but is missing from the stored state`);

  const limitKeys = new Map<string, Set<string>>();
  for (const e of events) {
    if (e.event.type === 'ratelimit.set' || e.event.type === 'config.ratelimit') {
      const keys = limitKeys.get(e.event.cluster) ?? new Set<string>();
      for (const k of Object.keys(e.event.limits)) keys.add(k);
      limitKeys.set(e.event.cluster, keys);
    }
  }
  const names = new Set([...Object.keys(stored.clusters), ...Object.keys(replayed.clusters)]);
  for (const name of [...names].sort()) {
    const s = (Object.hasOwn(stored.clusters, name) ? stored.clusters[name] : undefined) ?? DEFAULT_CLUSTER;
    const r = (Object.hasOwn(replayed.clusters, name) ? replayed.clusters[name] : undefined) ?? DEFAULT_CLUSTER;
    for (const field of ['enabled', 'change', 'breaker'] as const) {
      if (stable(s[field]) !== stable(r[field])) problems.push(`cluster ${name} ${field}: stored ${stable(s[field])}, replayed ${stable(r[field])}`);
    }
    for (const k of limitKeys.get(name) ?? []) {
      const key = k as keyof ClusterState['rateLimits'];
      if (s.rateLimits[key] !== r.rateLimits[key]) problems.push(`cluster ${name} rate limit ${k}: stored ${s.rateLimits[key]}, replayed ${r.rateLimits[key]}`);
    }
  }
  return problems;
}
