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
  | { type: 'config.ratelimit'; cluster: string; limits: Partial<RateLimits>; previous: Partial<RateLimits>; source: string };

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
  }
}
