import type { ClusterTraffic } from '@infrabot/guard';
import type { CommandServices } from '../framework/command-context.js';
import { describeLoad } from './control-services.js';
import { LIVE_WINDOW_SECONDS } from './traffic-monitor.js';

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;

/** One line per cluster of live traffic: "1,240 req/s from 3 services · denied 12/s (rate-limited) · errors 0.4%". */
export function describeLiveTraffic(t: ClusterTraffic | undefined): string {
  if (!t || t.requestsPerSecond === 0) return 'no guarded traffic';
  const parts = [describeLoad({ c: t }, ['c']).text.replace(/^~/, '')];
  const denied = Object.entries(t.deniedPerSecond);
  if (denied.length) parts.push(`denied ${denied.map(([r, n]) => `${n >= 10 ? Math.round(n) : n.toFixed(1)}/s ${r}`).join(', ')}`);
  if (t.errorRate !== undefined) parts.push(`errors ${pct(t.errorRate)}`);
  if (t.staleChecks > 0) parts.push(`⚠️ ${t.staleChecks} checks on a stale snapshot`);
  return parts.join(' · ');
}

/**
 * The control channel for `status`: where changes go and whether services are current, plus live traffic
 * per cluster when Redis carries it. Never throws: status must answer even with Redis down.
 */
export async function describeControlChannel(services: CommandServices | undefined): Promise<{ line: string; traffic?: Record<string, ClusterTraffic> }> {
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
  const traffic = await control.traffic.live();
  return {
    line: `📡 Redis ${s.target}: published v${s.publishedVersion}${behind ? ` ⚠️ behind the store (v${s.storeVersion}); retrying` : ''}. Live traffic over the last ${LIVE_WINDOW_SECONDS} s.`,
    ...(traffic ? { traffic } : {}),
  };
}
