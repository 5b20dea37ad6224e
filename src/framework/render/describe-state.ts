import type { RateLimits } from '../../config/config-schema.js';
import type { Change } from '../../engine/control-state.js';
import type { ClusterView } from '../../engine/engine.js';

/** Short texts for replies; shared by status, history and the cluster commands. */
export const describeLimits = (l: RateLimits) =>
  `${l.perMinute.toLocaleString('en-US')}/min · ${l.perHour.toLocaleString('en-US')}/h · ${l.perDay.toLocaleString('en-US')}/day`;

export const describeChange = (c?: Change) =>
  c ? ` (by ${c.by} at ${c.at.slice(0, 19).replace('T', ' ')}Z${c.reason ? `: ${c.reason}` : ''})` : '';

export const breakerIcon = { closed: '🟢 closed', open: '🔴 open', 'half-open': '🟡 half-open' } as const;

/**
 * A cluster's traffic as it really is: while the global kill-switch is on every cluster refuses traffic,
 * whatever its own switch says, so that is what leads.
 */
export function describeTraffic(c: ClusterView, killSwitchOn: boolean): string {
  if (killSwitchOn) return `⛔ refused (kill-switch; cluster itself ${c.enabled ? 'enabled' : 'disabled'})`;
  return c.enabled ? '🟢 enabled' : '🔴 disabled';
}

export function clusterRow(c: ClusterView, killSwitchOn = false): string[] {
  return [c.name, describeTraffic(c, killSwitchOn), breakerIcon[c.breakerView], describeLimits(c.rateLimits)];
}

export const CLUSTER_COLUMNS = ['cluster', 'traffic', 'breaker', 'rate limits'];
