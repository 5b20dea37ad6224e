import type { ClusterTraffic } from '@infrabot/guard';
import type { ControlChannel } from './control-channel.js';
import { LIVE_WINDOW_SECONDS, type TrafficMonitor } from './traffic-monitor.js';

export interface ControlServices {
  channel: ControlChannel;
  traffic: TrafficMonitor;
}

const rate = (x: number) => (x >= 10 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));

/** "1,240 req/s from 3 services": what guards reported for these clusters together. */
export function describeLoad(traffic: Record<string, ClusterTraffic>, clusters: readonly string[]): { perSecond: number; text: string } {
  const ts = clusters.map((c) => traffic[c]).filter((t): t is ClusterTraffic => t !== undefined);
  const perSecond = ts.reduce((n, t) => n + t.requestsPerSecond, 0);
  const services = new Set(ts.flatMap((t) => t.services)).size;
  return { perSecond, text: `~${rate(perSecond)} req/s from ${services} service${services === 1 ? '' : 's'}` };
}

/**
 * The impact line of a dangerous confirmation: "Impact: disabling api rejects ~1,240 req/s from 3 services
 * (live, last 10 s)." `clusters` undefined means all of them (the kill-switch).
 */
export async function describeImpact(control: ControlServices | undefined, action: string, clusters?: readonly string[]): Promise<string | undefined> {
  if (!control?.channel.publisher) return undefined; // no live traffic without Redis; `status` says so

  const traffic = await control.traffic.live();
  if (!traffic) return 'Impact: unknown (Redis did not answer).';
  const load = describeLoad(traffic, clusters ?? Object.keys(traffic));
  if (load.perSecond === 0) return `Impact: no guarded traffic reported in the last ${LIVE_WINDOW_SECONDS} s.`;
  return `Impact: ${action} rejects ${load.text} (live, last ${LIVE_WINDOW_SECONDS} s).`;
}
