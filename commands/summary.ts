import { z } from 'zod';
import { computeSummary, type Summary } from '../src/engine/summary/compute-summary.js';
import { renderSummaryChart } from '../src/framework/render/render-summary-chart.js';
import { healthOf } from '../src/framework/services/health.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import type { HandlerReply } from '../src/framework/reply.js';
import { usage } from '../src/user-error.js';
import { formatDuration, parseDuration } from '../src/util/duration.js';
import { formatTime } from '../src/util/format-time.js';
import { quoteForMessage } from '../src/util/quote-for-message.js';
import { isoTime } from '../src/framework/render/state-data.js';

const MAX_PERIOD_MS = 90 * 86_400_000;
const MAX_CHANGES = 15;

const summaryData = z.object({
  since: isoTime,
  until: isoTime,
  clusters: z.array(z.object({ cluster: z.string(), uptimePercent: z.number().nullable().describe('null without probes in the period'), probes: z.number().int() })),
  alertsFired: z.number().int(),
  alertsResolved: z.number().int(),
  incidentsOpened: z.number().int(),
  incidentsResolved: z.number().int(),
  mttaMs: z.number().nullable(),
  mttrMs: z.number().nullable(),
  changes: z.array(z.object({ at: isoTime, actor: z.string(), what: z.string() })).describe('Control changes, oldest first'),
  alertsPerBucket: z.array(z.object({ start: isoTime, alerts: z.number().int() })).describe('What the chart shows'),
  bucketMs: z.number().int(),
});

const toSummaryData = (s: Summary): z.output<typeof summaryData> => ({
  since: s.since,
  until: s.until,
  clusters: s.clusters.map((c) => ({ cluster: c.cluster, uptimePercent: c.uptime ?? null, probes: c.probes })),
  alertsFired: s.alertsFired,
  alertsResolved: s.alertsResolved,
  incidentsOpened: s.incidentsOpened,
  incidentsResolved: s.incidentsResolved,
  mttaMs: s.mttaMs ?? null,
  mttrMs: s.mttrMs ?? null,
  changes: s.changes,
  alertsPerBucket: s.buckets,
  bucketMs: s.bucketMs,
});

const pct = (x: number | undefined) => (x === undefined ? 'no probes' : `${x >= 99.995 ? '100' : x.toFixed(2)}%`);

/** Headline first (one line a phone shows whole), details in fields, the chart attached. */
export function summaryReply(s: Summary, period: string, cluster: string | undefined, png: Buffer): HandlerReply<z.output<typeof summaryData>> & { data: z.output<typeof summaryData> } {
  const probes = s.clusters.reduce((n, c) => n + c.probes, 0);
  const up = probes ? s.clusters.reduce((n, c) => n + ((c.uptime ?? 0) * c.probes) / 100, 0) / probes * 100 : undefined;
  const headline = [
    up === undefined ? 'No health probes in this period' : `Uptime ${pct(up)}`,
    `${s.alertsFired} alert${s.alertsFired === 1 ? '' : 's'} fired, ${s.alertsResolved} resolved`,
    `${s.incidentsOpened} incident${s.incidentsOpened === 1 ? '' : 's'} opened, ${s.incidentsResolved} resolved`,
    `${s.changes.length} control change${s.changes.length === 1 ? '' : 's'}`,
  ].join(' · ');
  const worst = s.clusters.filter((c) => c.uptime !== undefined).sort((a, b) => a.uptime! - b.uptime!)[0];
  const changes = s.changes.slice(-MAX_CHANGES).map((c) => `${formatTime(c.at).slice(5, 16)} ${c.actor}: ${c.what}`);
  return {
    title: `📊 Summary${cluster ? ` of ${cluster}` : ''} · last ${period}`,
    text: headline,
    severity: s.incidentsOpened > s.incidentsResolved || (worst?.uptime ?? 100) < 99 ? 'warning' : 'info',
    visibility: 'channel',
    fields: [
      { name: 'Uptime per cluster', value: s.clusters.map((c) => `${c.cluster}: ${pct(c.uptime)}${c.probes ? ` (${c.probes.toLocaleString('en-US')} probes)` : ''}`).join('\n') || 'no clusters', inline: true },
      { name: 'Alerts', value: `${s.alertsFired} fired · ${s.alertsResolved} resolved`, inline: true },
      {
        name: 'Incidents',
        value: `${s.incidentsOpened} opened · ${s.incidentsResolved} resolved\nMTTA ${s.mttaMs !== undefined ? formatDuration(s.mttaMs) : '-'} · MTTR ${s.mttrMs !== undefined ? formatDuration(s.mttrMs) : '-'}`,
        inline: true,
      },
      {
        name: `Control changes${s.changes.length > MAX_CHANGES ? ` (last ${MAX_CHANGES} of ${s.changes.length})` : ''}`,
        value: changes.join('\n') || 'none',
      },
      { name: 'Period', value: `${formatTime(s.since)} → ${formatTime(s.until)}` },
    ],
    attachments: [{ filename: `summary-${s.until.slice(0, 10)}.png`, contentType: 'image/png', content: png.toString('base64'), encoding: 'base64' }],
    data: toSummaryData(s),
  };
}

export default defineGroup({
  name: 'summary',
  summary: 'What happened in a period: uptime per cluster, alerts, incidents with MTTA/MTTR, control changes, and a chart.',
  defaultSubcommand: 'summary',
  subcommands: [
    defineSubcommand({
      name: 'summary',
      summary: 'Summarise the last period (default 24h), for every cluster you may see or for one.',
      options: z.object({
        since: opt.duration('How far back, e.g. 24h or 7d').default('24h'),
        cluster: opt.cluster('Only this cluster').optional(),
      }),
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['summary', 'summary --since 7d', 'summary --since 24h --cluster api'],
      data: summaryData,
      handler: async (a, ctx) => {
        const ms = parseDuration(a.since);
        if (!ms || ms > MAX_PERIOD_MS) throw usage(`--since takes a duration up to 90d such as 24h or 7d, not ${quoteForMessage(a.since)}.`);
        if (a.cluster) ctx.engine.cluster(ctx.state, a.cluster);
        const until = ctx.now();
        const health = healthOf(ctx);
        const s = await computeSummary(
          { health: health.health, store: ctx.store, config: ctx.engine.config },
          { since: new Date(until.getTime() - ms), until, ...(a.cluster ? { cluster: a.cluster } : {}), canSee: ctx.canSee },
        );
        const chart = renderSummaryChart(s, `Alerts fired per ${s.bucketMs >= 86_400_000 ? 'day' : 'hour'}${a.cluster ? ` · ${a.cluster}` : ''} · last ${a.since}`);
        return summaryReply(s, a.since, a.cluster, chart);
      },
    }),
  ],
});
