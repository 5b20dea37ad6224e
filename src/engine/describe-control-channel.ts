import { z } from 'zod';
import type { ClusterTraffic, GuardSeen } from '@infrabot/guard';
import { describeLoad, type ControlServices } from './control-services.js';
import { LIVE_WINDOW_SECONDS } from './traffic-monitor.js';

/** The control channel as `status` data: where changes go, and whether services may be working from less. */
export const controlChannelData = z
  .object({
    redis: z.enum(['not configured', 'connected', 'unreachable']),
    target: z.string().nullable().describe('Redis URL without credentials (redis://host:port), when configured'),
    storeVersion: z.number().int(),
    publishedVersion: z.number().int().nullable().describe('The newest version Redis holds, when reachable'),
    degraded: z.boolean().describe('true without Redis, with Redis unreachable, or while Redis is behind the store'),
    notice: z.string().describe('What that means for guards and rate limits, in words'),
  })
  .describe('The Redis control channel; null when this process runs no control services');
export type ControlChannelData = z.output<typeof controlChannelData>;

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
  control: ControlServices | undefined,
): Promise<{ line: string; live?: (cluster: string) => string; data: ControlChannelData | null }> {
  if (!control) return { line: '', data: null };
  const s = await control.channel.status();
  const data = (degraded: boolean, notice: string): ControlChannelData => ({
    redis: s.redis,
    target: s.target ?? null,
    storeVersion: s.storeVersion,
    publishedVersion: s.publishedVersion ?? null,
    degraded,
    notice,
  });
  if (s.redis === 'not configured') {
    const notice = 'Redis is not configured: guards follow the control stream (GET /api/control/stream) or run in-process; rate limits count per process; no live traffic.';
    return { line: `📡 ${notice}`, data: data(true, notice) };
  }
  if (s.redis === 'unreachable') {
    const notice = `Redis ${s.target} is unreachable: guards keep their last snapshot (stale) and rate limits follow each cluster's fail mode.`;
    return { line: `⚠️ ${notice}`, data: data(true, notice) };
  }
  const behind = s.publishedVersion !== undefined && s.publishedVersion < s.storeVersion;
  const [traffic, guards] = await Promise.all([control.traffic.live(), control.traffic.guards()]);
  const published = `Redis ${s.target}: published v${s.publishedVersion}${behind ? ` behind the store (v${s.storeVersion}); retrying` : ''}.`;
  return {
    data: data(behind, published),
    line: `📡 Redis ${s.target}: published v${s.publishedVersion}${behind ? ` ⚠️ behind the store (v${s.storeVersion}); retrying` : ''}. Live traffic over the last ${LIVE_WINDOW_SECONDS} s.`,
    ...(traffic
      ? { live: (cluster: string) => describeLiveTraffic(traffic[cluster], guards ? describeGuards(guards[cluster] ?? [], s.storeVersion) : undefined) }
      : {}),
  };
}
