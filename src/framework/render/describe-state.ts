import type { RateLimits } from '../../config/config-schema.js';
import { effectiveRateLimits, limitFactor, type Change, type ClusterState } from '../../engine/control-state.js';
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

/** Why the enforced limits differ from the configured ones (throttled, or held by a person), or ''. */
export function describeLimitSource(c: ClusterState): string {
  const automatic = [
    ...(c.throttle ? [`budget throttling at ${Math.round(c.throttle.factor * 100)}%: ${c.throttle.reason}`] : []),
    ...(c.adaptive?.factor !== undefined && !c.adaptive.off ? [`adaptive step at ${Math.round(c.adaptive.factor * 100)}%: ${c.adaptive.reason ?? ''}`] : []),
  ];
  if (c.manual) return automatic.length ? `held by ${c.manual.by}; suspended until \`ratelimit release\`: ${automatic.join('; ')}` : '';
  return automatic.join('; ');
}

export function clusterRow(c: ClusterView, killSwitchOn = false): string[] {
  return [c.name, describeTraffic(c, killSwitchOn), breakerIcon[c.breakerView], `${describeLimits(effectiveRateLimits(c))}${limitFactor(c) < 1 ? ` (${Math.round(limitFactor(c) * 100)}% of configured)` : ''}`];
}

export const CLUSTER_COLUMNS = ['cluster', 'traffic', 'breaker', 'rate limits'];
