import { z } from 'zod';
import { clusterVia, commandWriter, healthOf } from '../src/framework/services/health.js';
import { defineGroup, defineSubcommand, opt, TEXT_LIMITS } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import type { CheckState } from '../src/store/health-store.js';
import { parseDuration, shiftTime } from '../src/util/duration.js';
import { isoTime } from '../src/framework/render/state-data.js';
import { plural } from '../src/util/plural.js';

const status = z.enum(['unknown', 'up', 'down', 'degraded']);
const ratio = (ok: number, total: number) => (total === 0 ? null : ok / total);
const uptime = z.number().min(0).max(1).nullable().describe('Share of successful probes (0..1); null without probes');

const ICON: Record<CheckState['status'], string> = { unknown: '⚪ unknown', up: '🟢 up', down: '🔴 DOWN', degraded: '🟡 degraded' };
const ms = (v?: number) => (v === undefined ? '-' : `${Math.round(v)} ms`);
const pct = (ok: number, total: number) => (total === 0 ? '-' : `${((100 * ok) / total).toFixed(total >= 1000 ? 2 : 1)}%`);
const stamp = (iso?: string) => (iso ? iso.slice(5, 19).replace('T', ' ') + 'Z' : '-');

export default defineGroup({
  name: 'health',
  summary: 'Health checks: state, uptime and latency; run a probe now; result history.',
  defaultSubcommand: 'show',
  subcommands: [
    defineSubcommand({
      name: 'show',
      summary: 'List checks with state, last result, uptime over 24 h and 7 d, and p50/p95 latency (24 h).',
      options: z.object({ cluster: opt.cluster('Only this cluster').optional() }),
      positionals: ['cluster'],
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['health', 'health api'],
      data: z.object({
        checks: z.array(
          z.object({
            check: z.string(),
            cluster: z.string(),
            type: z.string(),
            status,
            lastAt: isoTime.nullable(),
            lastOk: z.boolean().nullable(),
            lastError: z.string().nullable(),
            lastLatencyMs: z.number().nullable(),
            uptime24h: uptime,
            uptime7d: uptime,
            p50Ms: z.number().nullable().describe('Median latency over 24 h'),
            p95Ms: z.number().nullable(),
          }),
        ),
      }),
      handler: async ({ cluster }, ctx) => {
        const h = healthOf(ctx);
        if (cluster) ctx.engine.cluster(ctx.state, cluster);
        const now = ctx.now().getTime();
        const day = new Date(now - 86_400_000).toISOString();
        const week = new Date(now - 7 * 86_400_000).toISOString();
        const checks = h.checks.filter((c) => (!cluster || c.cluster === cluster) && ctx.canSee(c.cluster));
        const found = await Promise.all(
          checks.map(async (m) => {
            const s = await h.health.checkState(m.check.name);
            const d = await h.health.stats(m.check.name, day);
            const w = await h.health.stats(m.check.name, week);
            const last = s?.lastAt ? `${s.lastOk ? 'ok' : `✗ ${s.lastError ?? 'failed'}`} ${ms(s.lastLatencyMs)} at ${stamp(s.lastAt)}` : 'not run yet';
            const row = [m.check.name, m.cluster, m.check.type, ICON[s?.status ?? 'unknown'], last, pct(d.ok, d.total), pct(w.ok, w.total), ms(d.p50), ms(d.p95)];
            const data = {
              check: m.check.name, cluster: m.cluster, type: m.check.type, status: s?.status ?? 'unknown',
              lastAt: s?.lastAt ?? null, lastOk: s?.lastOk ?? null, lastError: s?.lastError ?? null, lastLatencyMs: s?.lastLatencyMs ?? null,
              uptime24h: ratio(d.ok, d.total), uptime7d: ratio(w.ok, w.total), p50Ms: d.p50 ?? null, p95Ms: d.p95 ?? null,
            };
            return { row, data };
          }),
        );
        const rows = found.map((f) => f.row);
        const bad = rows.filter((r) => r[3] !== ICON.up).length;
        return {
          title: cluster ? `Health of ${cluster}` : 'Health checks',
          severity: rows.some((r) => r[3] === ICON.down) ? 'critical' : bad ? 'warning' : 'info',
          text: checks.length === 0 ? 'No checks configured (see docs/health.md).' : `${rows.length - bad} of ${rows.length} checks up.`,
          table: { columns: ['check', 'cluster', 'type', 'state', 'last result', 'up 24h', 'up 7d', 'p50', 'p95'], rows },
          data: { checks: found.map((f) => f.data) },
        };
      },
    }),
    defineSubcommand({
      name: 'run',
      summary: 'Probe a check now and record the result (it counts toward its thresholds).',
      options: z.object({ check: opt.text('Check name', TEXT_LIMITS.name) }),
      positionals: ['check'],
      role: 'operator',
      clusterOf: clusterVia((a: { check: string }) => ({ check: a.check })),
      examples: ['health run api-http'],
      data: z.object({
        check: z.string(),
        ok: z.boolean(),
        error: z.string().nullable(),
        latencyMs: z.number(),
        status,
        failures: z.number().int().describe('Consecutive failures'),
        successes: z.number().int().describe('Consecutive successes'),
        certDaysLeft: z.number().nullable(),
      }),
      handler: async ({ check }, ctx) => {
        // The result (and any alert it raises) commits with this command's audit record, once.
        const { outcome, state } = await healthOf(ctx).runCheck(check, commandWriter(ctx));
        return {
          title: `${outcome.ok ? '✅' : '❌'} ${check}: ${outcome.ok ? 'ok' : outcome.error}`,
          severity: outcome.ok ? 'success' : 'warning',
          ...(outcome.ok ? {} : { outcome: 'failed' as const }),
          fields: [
            { name: 'Latency', value: ms(outcome.latencyMs), inline: true },
            { name: 'State', value: ICON[state.status], inline: true },
            { name: 'Streak', value: state.failures ? plural(state.failures, 'failure') : plural(state.successes, 'success', 'successes'), inline: true },
            ...(outcome.certDaysLeft !== undefined ? [{ name: 'Certificate', value: `expires in ${Math.floor(outcome.certDaysLeft)} days` }] : []),
          ],
          data: {
            check, ok: outcome.ok, error: outcome.ok ? null : (outcome.error ?? null), latencyMs: outcome.latencyMs, status: state.status,
            failures: state.failures, successes: state.successes, certDaysLeft: outcome.certDaysLeft ?? null,
          },
        };
      },
    }),
    defineSubcommand({
      name: 'history',
      summary: 'Recent results of a check (newest first, at most 50) with uptime and latency over the period.',
      options: z.object({ check: opt.text('Check name', TEXT_LIMITS.name), since: opt.duration('How far back, e.g. 24h').default('24h') }),
      positionals: ['check'],
      role: 'viewer',
      clusterOf: clusterVia((a: { check: string }) => ({ check: a.check })),
      examples: ['health history api-http', 'health history api-http --since 7d'],
      data: z.object({
        check: z.string(),
        since: isoTime,
        probes: z.number().int(),
        uptime,
        p50Ms: z.number().nullable(),
        p95Ms: z.number().nullable(),
        results: z.array(z.object({ at: isoTime, ok: z.boolean(), latencyMs: z.number(), error: z.string().nullable() })).describe('Newest first, at most 50'),
      }),
      handler: async ({ check, since }, ctx) => {
        const h = healthOf(ctx);
        h.find(check);
        const span = parseDuration(since);
        const start = span === undefined ? undefined : shiftTime(ctx.now(), -span);
        if (!start) throw usage(`--since takes a duration such as 24h or 7d, not "${since}".`);
        const from = start.toISOString();
        const [results, stats] = await Promise.all([h.health.results(check, from, 50), h.health.stats(check, from)]);
        return {
          title: `History of ${check} (last ${since})`,
          text: `Uptime ${pct(stats.ok, stats.total)} over ${stats.total} probes · p50 ${ms(stats.p50)} · p95 ${ms(stats.p95)}`,
          table: { columns: ['time', 'result', 'latency', 'error'], rows: results.map((r) => [stamp(r.at), r.ok ? '✅ ok' : '❌ fail', ms(r.latencyMs), r.error ?? '']) },
          data: {
            check, since: from, probes: stats.total, uptime: ratio(stats.ok, stats.total), p50Ms: stats.p50 ?? null, p95Ms: stats.p95 ?? null,
            results: results.map((r) => ({ at: r.at, ok: r.ok, latencyMs: r.latencyMs, error: r.error ?? null })),
          },
        };
      },
    }),
  ],
});
