import type { Role } from '../auth/roles.js';
import type { RateLimits } from '../config/config-schema.js';

/** Every change to control state is one of these facts, appended and never rewritten. */
export type ControlEvent =
  | { type: 'killswitch.set'; on: boolean; reason?: string }
  | { type: 'cluster.enabled'; cluster: string; reason?: string }
  | { type: 'cluster.disabled'; cluster: string; reason: string }
  | { type: 'ratelimit.set'; cluster: string; limits: Partial<RateLimits> }
  | { type: 'breaker.tripped'; cluster: string; reason?: string }
  | { type: 'breaker.reset'; cluster: string }
  | { type: 'role.granted'; subject: string; role: Role; cluster?: string }
  | { type: 'role.revoked'; subject: string; role: Role; cluster?: string }
  /**
   * The config file's defaults changed (recorded at start by actor `config`): `limits` now apply, `previous`
   * were stored before. History replays earlier times onto the previous values, so it shows what applied then.
   */
  | { type: 'config.ratelimit'; cluster: string; limits: Partial<RateLimits>; previous: Partial<RateLimits>; source: string }
  /** A budget of one cluster or one team (exactly one of the two); 0 clears a window. */
  | { type: 'budget.set'; cluster?: string; team?: string; daily?: number; monthly?: number; currency: string }
  /** Smart throttling (by `system`): effective limits = configured × factor (1 lifts it), with the numbers why. */
  | { type: 'ratelimit.throttled'; cluster: string; factor: number; reason: string }
  /** Adaptive limits switched on or off for a cluster (by a person). */
  | { type: 'ratelimit.adaptive'; cluster: string; on: boolean }
  /** The adaptive controller's step (by `system`): enforced = configured × factor, with the numbers that caused it. */
  | { type: 'ratelimit.adapted'; cluster: string; factor: number; reason: string }
  /** A human hands the limits back to automatic throttling (`ratelimit release`). */
  | { type: 'ratelimit.released'; cluster: string };

export interface StoredEvent {
  seq: number;
  at: string;
  actor: string;
  /** "global" or the cluster name: what `history <scope>` filters on. */
  scope: string;
  event: ControlEvent;
}

export const eventScope = (e: ControlEvent): string =>
  'cluster' in e && e.cluster !== undefined ? e.cluster : 'global';

/** One line for history and timelines: "disabled cluster api: deploy gone wrong". */
export function describeEvent(e: ControlEvent): string {
  const why = 'reason' in e && e.reason ? `: ${e.reason}` : '';
  switch (e.type) {
    case 'killswitch.set':
      return `kill-switch ${e.on ? 'ON' : 'off'}${why}`;
    case 'cluster.enabled':
      return `enabled cluster ${e.cluster}${why}`;
    case 'cluster.disabled':
      return `disabled cluster ${e.cluster}${why}`;
    case 'ratelimit.set':
      return `rate limits of ${e.cluster} set to ${Object.entries(e.limits).map(([k, v]) => `${k} ${v}`).join(', ')}`;
    case 'breaker.tripped':
      return `tripped the breaker of ${e.cluster}${why}`;
    case 'breaker.reset':
      return `reset the breaker of ${e.cluster}`;
    case 'role.granted':
      return `granted ${e.role} to ${e.subject}${e.cluster ? ` on ${e.cluster}` : ' globally'}`;
    case 'role.revoked':
      return `revoked ${e.role} from ${e.subject}${e.cluster ? ` on ${e.cluster}` : ' globally'}`;
    case 'config.ratelimit':
      return `${e.source} changed the default rate limits of ${e.cluster}: ${Object.entries(e.limits).map(([k, v]) => `${k} ${e.previous[k as keyof typeof e.previous] ?? '?'} → ${v}`).join(', ')}`;
    case 'budget.set':
      return `budget of ${e.cluster ? `cluster ${e.cluster}` : `team ${e.team}`} set to ${describeBudget(e)}`;
    case 'ratelimit.throttled':
      return e.factor >= 1 ? `throttling of ${e.cluster} lifted: ${e.reason}` : `throttled ${e.cluster} to ${Math.round(e.factor * 100)}% of its limits: ${e.reason}`;
    case 'ratelimit.adaptive':
      return `adaptive rate limits of ${e.cluster} ${e.on ? 'on' : 'off'}`;
    case 'ratelimit.adapted':
      return `adaptive limits of ${e.cluster} at ${Math.round(e.factor * 100)}%: ${e.reason}`;
    case 'ratelimit.released':
      return `rate limits of ${e.cluster} handed back to automatic throttling`;
  }
}

/** "50 USD a day, 1,000 USD a month" (a 0 or missing window is left out). */
export function describeBudget(b: { daily?: number; monthly?: number; currency: string }): string {
  const parts = [
    ...(b.daily ? [`${b.daily.toLocaleString('en-US')} ${b.currency} a day`] : []),
    ...(b.monthly ? [`${b.monthly.toLocaleString('en-US')} ${b.currency} a month`] : []),
  ];
  return parts.length ? parts.join(', ') : 'no limit';
}
