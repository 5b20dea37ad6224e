import { z } from 'zod';
import { ROLES } from '../../auth/roles.js';
import type { Change, ControlState } from '../../engine/control-state.js';
import type { ClusterView, Engine } from '../../engine/engine.js';
import { parseDuration } from '../../util/duration.js';

/**
 * Structured reply data of the control commands (status, cluster, breaker, ratelimit, killswitch): the
 * shapes `--json` prints and the HTTP API returns. Machine values only: booleans, numbers, ISO times, ids.
 */
export const isoTime = z.iso.datetime();

export const changeData = z
  .object({ by: z.string().describe('Who made the change (platform-qualified user id)'), at: isoTime, reason: z.string().nullable() })
  .describe('The last change: who, when and why');

export const rateLimitsData = z.object({
  perMinute: z.number().int(),
  perHour: z.number().int(),
  perDay: z.number().int(),
});

export const breakerData = z.object({
  state: z.enum(['closed', 'open', 'half-open']).describe('half-open: the cool-down has passed and trial traffic goes through'),
  cooldownMs: z.number().int(),
  change: changeData.nullable(),
});

export const clusterData = z.object({
  name: z.string(),
  description: z.string(),
  enabled: z.boolean().describe('The cluster switch (independent of the kill-switch)'),
  serving: z.boolean().describe('Takes traffic now: kill-switch off, cluster enabled and breaker not open'),
  change: changeData.nullable(),
  breaker: breakerData,
  rateLimits: rateLimitsData,
});

export const killSwitchData = z.object({ on: z.boolean(), change: changeData.nullable() });

export const controlData = z.object({
  version: z.number().int().describe('Sequence number of the last control event in this state'),
  killSwitch: killSwitchData,
  clusters: z.array(clusterData),
});

export type ClusterData = z.output<typeof clusterData>;

export const toChangeData = (c?: Change): z.output<typeof changeData> | null => (c ? { by: c.by, at: c.at, reason: c.reason ?? null } : null);

export function toClusterData(c: ClusterView, killSwitchOn: boolean): ClusterData {
  return {
    name: c.name,
    description: c.description,
    enabled: c.enabled,
    serving: !killSwitchOn && c.enabled && c.breakerView !== 'open',
    change: toChangeData(c.change),
    breaker: { state: c.breakerView, cooldownMs: parseDuration(c.breakerCooldown) ?? 0, change: toChangeData(c.breaker.change) },
    rateLimits: { ...c.rateLimits },
  };
}

export function toControlData(engine: Engine, state: ControlState, clusters: readonly ClusterView[] = engine.clusters(state)): z.output<typeof controlData> {
  return {
    version: state.seq,
    killSwitch: { on: state.killSwitch.on, change: toChangeData(state.killSwitch.change) },
    clusters: clusters.map((c) => toClusterData(c, state.killSwitch.on)),
  };
}

export const roleData = z.enum(ROLES);
/** A command that may find nothing to do says whether it changed anything. */
export const changed = z.boolean().describe('false when the state already was as asked (nothing recorded)');
