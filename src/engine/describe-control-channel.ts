import type { ClusterTraffic, GuardSeen } from '@infrabot/guard';
import type { CommandServices } from '../framework/command-context.js';
import { describeLoad } from './control-services.js';
import { LIVE_WINDOW_SECONDS } from './traffic-monitor.js';

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;

/** Which guards hold the current version: "3 guards current", or who is behind or stale. */
export function describeGuards(guards: readonly GuardSeen[], version: number): string {
  if (guards.length === 0) return 'no guards reporting';
  const behind = guards.filter((g) => g.status === 'ready' && g.version < version);
  const stale = guards.filter((g) => g.status !== 'ready');
  const current = guards.length - behind.length - stale.length;
  const who = (list: readonly GuardSeen[]) => [...new Set(list.map((g) => g.service))].sort().join(', ');
  const parts = [`${current} of ${guards.length} guard${guards.length === 1 ? '' : 's'} current`];
  if (behind.length) parts.push(`⚠️ ${behind.length} behind (${who(behind)})`);
  if (stale.length) parts.push(`⚠️ ${stale.length} stale (${who(stale)})`);
  return parts.join(', ');
}

/** One line per cluster of live traffic: "1,240 req/s from 3 services · denied 12/s (rate-limited) · errors 0.4%". */
export function describeLiveTraffic(t: ClusterTraffic | undefined, guards?: string): string {
  const parts = [!t || t.requestsPerSecond === 0 ? 'no guarded traffic' : describeLoad({ c: t }, ['c']).text.replace(/^~/, '')];
  if (t && t.requestsPerSecond > 0) {
    const denied = Object.entries(t.deniedPerSecond);
    if (denied.length) parts.push(`denied ${denied.map(([r, n]) => `${n >= 10 ? Math.round(n) : n.toFixed(1)}/s ${r}`).join(', ')}`);
    if (t.errorRate !== undefined) parts.push(`errors ${pct(t.errorRate)}`);
    if (t.staleChecks > 0) parts.push(`⚠️ ${t.staleChecks} checks on a stale snapshot`);
  }
  if (guards) parts.push(guards);
  return parts.join(' · ');
}

/**
 * The control channel for `status`: where changes go and whether services are current, plus live traffic
 * per cluster when Redis carries it. Never throws: status must answer even with Redis down.
 */
export async function describeControlChannel(
  services: CommandServices | undefined,
): Promise<{ line: string; live?: (cluster: string) => string }> {
  const control = services?.control;
  if (!control) return { line: '' };
  const s = await control.channel.status();
  if (s.redis === 'not configured') {
    return { line: '📡 Redis is not configured: guards follow the control stream (GET /api/control/stream) or run in-process; rate limits count per process; no live traffic.' };
  }
  if (s.redis === 'unreachable') {
    return { line: `⚠️ Redis ${s.target} is unreachable: guards keep their last snapshot (stale) and rate limits follow each cluster's fail mode.` };
  }
  const behind = s.publishedVersion !== undefined && s.publishedVersion < s.storeVersion;
  const [traffic, guards] = await Promise.all([control.traffic.live(), control.traffic.guards()]);
  return {
    line: `📡 Redis ${s.target}: published v${s.publishedVersion}${behind ? ` ⚠️ behind the store (v${s.storeVersion}); retrying` : ''}. Live traffic over the last ${LIVE_WINDOW_SECONDS} s.`,
    ...(traffic
      ? { live: (cluster: string) => describeLiveTraffic(traffic[cluster], guards ? describeGuards(guards[cluster] ?? [], s.storeVersion) : undefined) }
      : {}),
  };
}
